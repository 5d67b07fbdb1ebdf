#[test]
fn timing() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/influence/ira/tweets-2016-09-01_2016-11-30.csv.gz");
    let t = std::time::Instant::now();
    let mut n = 0u64;
    let r = scrutineer_influence::read::read_posts_from_path(
        &path,
        &scrutineer_influence::read::Format::Auto,
        |_p| n += 1,
    )
    .expect("ok");
    eprintln!("{n} {:?} {}", t.elapsed(), r);
}
