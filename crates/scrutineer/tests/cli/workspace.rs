//! The analyst workspace of `scrutineer serve` against a real server on a loopback
//! port: users signing in with a password, sessions, lock-out, roles and the voter
//! fields they may see, and the anti-forgery checks on every state-changing request.

use std::path::Path;

use crate::server_api::{Reply, Server, request, scrutineer, send, start_server};

/// `scrutineer users add` with the password on standard input.
fn add_user(store: &Path, name: &str, role: &str, password: &str, extra: &[&str]) {
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(store)
        .args(["--quiet", "users", "add", name, "--role", role])
        .args(extra)
        .write_stdin(format!("{password}\n"))
        .output()
        .expect("run");
    assert!(out.status.success(), "users add {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A signed-in browser: its session cookie and the session's anti-forgery token.
struct Browser {
    cookie: String,
    csrf: String,
}

/// Posts the sign-in form as a browser would (its double-submit cookie, this origin).
fn try_sign_in(addr: &str, name: &str, password: &str) -> Reply {
    let form = request(addr, "/login", &[]);
    assert_eq!(form.status, 200, "{}", form.body);
    let signin = form.cookie("scrutineer_signin").expect("sign-in cookie");
    let csrf = signin.split_once('=').expect("pair").1.to_owned();
    let body = format!("csrf={csrf}&name={name}&password={}", password.replace(' ', "+"));
    let origin = format!("http://{addr}");
    send(
        addr,
        "POST",
        "/login",
        &[("Cookie", &signin), ("Origin", &origin), ("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    )
}

fn sign_in(addr: &str, name: &str, password: &str) -> Browser {
    let reply = try_sign_in(addr, name, password);
    assert_eq!(reply.status, 303, "{name} could not sign in: {}", reply.body);
    assert_eq!(reply.header("location"), Some("/"));
    let set = reply
        .headers
        .iter()
        .find(|(k, v)| k == "set-cookie" && v.starts_with("scrutineer_session="))
        .map(|(_, v)| v.clone())
        .expect("session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = reply.cookie("scrutineer_session").expect("session cookie");
    let page = request(addr, "/", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200);
    let at = page.body.find("name=\"csrf\" value=\"").expect("the sign-out form's token") + 19;
    let csrf = page.body[at..].split('"').next().expect("token").to_owned();
    Browser { cookie, csrf }
}

fn post_as(addr: &str, who: &Browser, path: &str, origin: Option<&str>, form: &str) -> Reply {
    let mut headers =
        vec![("Cookie", who.cookie.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(o) = origin {
        headers.push(("Origin", o));
    }
    send(addr, "POST", path, &headers, form)
}

/// The voter ids in the ballot findings, as an admin's token reads them.
fn voter_ids(addr: &str, admin: &str) -> Vec<String> {
    let r = request(
        addr,
        "/api/findings?engine=ballots&limit=100000",
        &[("Authorization", &format!("Bearer {admin}"))],
    );
    assert_eq!(r.status, 200);
    let all: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let mut ids: Vec<String> = all
        .as_array()
        .expect("array")
        .iter()
        .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["data"]["voter_id"].as_str().map(str::to_owned))
        .filter(|v| v.len() >= 4)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Whether `word` occurs in `text` on its own (the simulated envelope ids embed the voter
/// ids they were issued for, `EG00000001` for voter `G00000001`, and are not voter fields).
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Issue 20: every route refuses a stranger; a viewer sees no voter field in pages or
/// the API while an analyst granted the ballot engine does; sign-out needs the session's
/// anti-forgery token and this origin and refuses GET; a password never reaches the log;
/// repeated failures lock an account; disabling a user ends their session at once.
#[test]
fn sign_in_roles_voter_fields_and_forgery_checks_on_a_live_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store.db");
    let dir = tmp.path().join("demo");
    scrutineer(&store, &["--quiet", "demo", "--scale", "0.2", "--dir", dir.to_str().expect("utf8")]);
    let admin = scrutineer(&store, &["--quiet", "tokens", "add", "root", "--role", "admin"]);
    add_user(&store, "ana", "analyst", "ana's long pass phrase", &["--voter-data", "ballots"]);
    add_user(&store, "vic", "viewer", "vic's long pass phrase", &[]);
    add_user(&store, "bob", "analyst", "bob's long pass phrase", &[]);
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["--quiet", "users", "add", "eve", "--role", "viewer"])
        .write_stdin("short\n")
        .output()
        .expect("run");
    assert!(!out.status.success(), "a short password was accepted");
    let (_server, addr) = start_server(&store, &["--max-failed-sign-ins", "3"]);

    // Strangers: pages redirect to the sign-in form, everything else is 401.
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/api/summary"),
        ("GET", "/api/findings"),
        ("GET", "/api/findings/x"),
        ("GET", "/api/runs"),
        ("GET", "/api/stix/infra"),
        ("GET", "/api/access-log"),
        ("POST", "/logout"),
        ("GET", "/logout"),
        ("POST", "/api/findings"),
        ("GET", "/findings"),
        ("GET", "/findings/x"),
        ("POST", "/findings/x/triage"),
        ("GET", "/api/findings/x/triage"),
        ("POST", "/api/findings/x/triage"),
        ("GET", "/api/imported-indicators"),
        ("GET", "/taxii2/"),
        ("GET", "/taxii2/api/"),
        ("GET", "/taxii2/api/collections/"),
        ("GET", "/taxii2/api/collections/infra/"),
        ("GET", "/taxii2/api/collections/infra/objects/"),
        ("GET", "/taxii2/api/collections/infra/manifest/"),
        ("POST", "/taxii2/api/collections/inbox/objects/"),
        ("GET", "/taxii2/api/status/x/"),
        ("GET", "/no/such/page"),
    ] {
        let r = send(&addr, method, path, &[], "");
        let to_sign_in = r.status == 303 && r.header("location") == Some("/login");
        assert!(r.status == 401 || to_sign_in, "{method} {path} without a session: {}", r.status);
        assert!(!r.body.contains("\"engine\""), "{method} {path} leaked findings");
    }
    assert_eq!(request(&addr, "/healthz", &[]).status, 200);

    let ids = voter_ids(&addr, &admin);
    assert!(ids.len() >= 3, "the demo's ballot findings name too few voters to test with: {ids:?}");
    let vic = sign_in(&addr, "vic", "vic's long pass phrase");
    let ana = sign_in(&addr, "ana", "ana's long pass phrase");
    let bob = sign_in(&addr, "bob", "bob's long pass phrase");
    let read = |who: &Browser, path: &str| {
        let r = request(&addr, path, &[("Cookie", &who.cookie)]);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    };
    for (who, name, sees) in [(&vic, "vic", false), (&bob, "bob", false), (&ana, "ana", true)] {
        let page = read(who, "/");
        assert!(page.contains(&format!("signed in as {name}")), "{name}'s page");
        let api = read(who, "/api/findings?engine=ballots&limit=100000");
        for (what, body) in [("page", &page), ("API", &api)] {
            let shown = ids.iter().filter(|id| contains_word(body, id)).count();
            if !sees {
                assert_eq!(shown, 0, "{name} saw {shown} voter ids in the {what}");
            } else if what == "API" {
                assert_eq!(shown, ids.len(), "{name} may see voter ids but the API showed {shown}");
            } else {
                // The page shows the top findings of each engine, not every one.
                assert!(shown > 0, "{name} may see voter ids but the page showed none");
            }
        }
        if !sees {
            assert!(api.contains("[redacted]"), "{name}'s findings say nothing of what was taken out");
        }
    }

    // Sign-out is state-changing: POST only, this origin, the session's token.
    let origin = format!("http://{addr}");
    let get_logout = request(&addr, "/logout", &[("Cookie", &vic.cookie)]);
    assert_eq!(get_logout.status, 405, "sign-out answered a GET");
    assert_eq!(post_as(&addr, &vic, "/logout", Some(&origin), "").status, 403, "no anti-forgery token");
    let wrong = format!("csrf={}", "0".repeat(64));
    assert_eq!(post_as(&addr, &vic, "/logout", Some(&origin), &wrong).status, 403, "a wrong token");
    let right = format!("csrf={}", vic.csrf);
    assert_eq!(
        post_as(&addr, &vic, "/logout", Some("http://evil.example"), &right).status,
        403,
        "another origin"
    );
    assert_eq!(post_as(&addr, &vic, "/logout", None, &right).status, 403, "no origin");
    let bob_token = format!("csrf={}", bob.csrf);
    assert_eq!(
        post_as(&addr, &vic, "/logout", Some(&origin), &bob_token).status,
        403,
        "another session's token"
    );
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &vic.cookie)]).status, 200, "still signed in");
    let out = post_as(&addr, &vic, "/logout", Some(&origin), &right);
    assert_eq!((out.status, out.header("location")), (303, Some("/login")));
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &vic.cookie)]).status, 401, "signed out");

    // Lock-out: three failures in a row lock bob's account, right password or not.
    for _ in 0..3 {
        assert_eq!(try_sign_in(&addr, "bob", "hunter2-not-bobs").status, 401);
    }
    assert_eq!(try_sign_in(&addr, "bob", "bob's long pass phrase").status, 401, "a locked account signed in");
    let listed = scrutineer(&store, &["--quiet", "--json", "users", "list"]);
    assert!(listed.contains("locked until"), "{listed}");
    assert_eq!(try_sign_in(&addr, "nobody", "whatever-at-all").status, 401);

    // Disabling a user ends their session at the next request.
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &ana.cookie)]).status, 200);
    scrutineer(&store, &["--quiet", "users", "disable", "ana"]);
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &ana.cookie)]).status, 401);
    assert_eq!(try_sign_in(&addr, "ana", "ana's long pass phrase").status, 401);
    scrutineer(&store, &["--quiet", "users", "enable", "ana"]);
    sign_in(&addr, "ana", "ana's long pass phrase");

    let log =
        request(&addr, "/api/access-log?limit=100000", &[("Authorization", &format!("Bearer {admin}"))]);
    assert!(!log.body.contains("hunter2") && !log.body.contains("pass phrase"), "a password reached the log");
    assert!(log.body.contains("sign-in refused (locked)"), "lock-outs are not in the access log");
    assert!(ids.iter().all(|id| !contains_word(&log.body, id)), "a voter id reached the log");
}

/// Issue 20: a session ends at its lifetime whatever the browser does, and
/// `users passwd` signs out whoever knew the old password.
#[test]
fn sessions_expire_and_a_new_password_ends_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store.db");
    add_user(&store, "ana", "analyst", "ana's long pass phrase", &[]);
    let (server, addr) = start_server(&store, &["--session-hours", "0.0008"]);
    let ana = sign_in(&addr, "ana", "ana's long pass phrase");
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &ana.cookie)]).status, 200);
    std::thread::sleep(std::time::Duration::from_millis(3200));
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &ana.cookie)]).status, 401, "an expired session");
    let page = request(&addr, "/", &[("Cookie", &ana.cookie)]);
    assert_eq!((page.status, page.header("location")), (303, Some("/login")));
    drop::<Server>(server);

    let (_server, addr) = start_server(&store, &[]);
    let ana = sign_in(&addr, "ana", "ana's long pass phrase");
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["--quiet", "users", "passwd", "ana"])
        .write_stdin("a brand new pass phrase\n")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(request(&addr, "/api/summary", &[("Cookie", &ana.cookie)]).status, 401);
    assert_eq!(try_sign_in(&addr, "ana", "ana's long pass phrase").status, 401);
    sign_in(&addr, "ana", "a brand new pass phrase");
}

/// A `/findings/{id}` page's value of the element with `id`.
fn element_text<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"{id}\">")).map(|at| at + id.len() + 6).expect("element");
    page[start..].split('<').next().expect("text")
}

/// Issue 20: an analyst triages a finding from its page; the change and its history
/// show on the page and in the API; a viewer cannot triage; a form without the session's
/// token is refused; markup in a note is shown as text. Then two engine runs write the
/// store while the triage goes on: no `database is locked` reaches the analyst, no
/// change is lost, and the re-runs keep the triage of the findings they reproduce.
#[test]
fn triage_persists_is_refused_to_viewers_and_survives_engines_writing_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store.db");
    let demo = |dir: &str| {
        let dir = tmp.path().join(dir);
        crate::util::scrutineer()
            .arg("--store")
            .arg(&store)
            .args(["--quiet", "demo", "--scale", "0.2", "--dir"])
            .arg(dir)
            .output()
            .expect("run demo")
    };
    assert!(demo("demo").status.success());
    let token = scrutineer(&store, &["--quiet", "tokens", "add", "script", "--role", "analyst"]);
    add_user(&store, "ana", "analyst", "ana's long pass phrase", &[]);
    add_user(&store, "vic", "viewer", "vic's long pass phrase", &[]);
    let (_server, addr) = start_server(&store, &[]);
    let origin = format!("http://{addr}");
    let bearer = format!("Bearer {token}");
    let r = request(&addr, "/api/findings?engine=infra&limit=1", &[("Authorization", &bearer)]);
    let list: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let id = list[0]["id"].as_str().expect("an infra finding").to_owned();
    let page_path = format!("/findings/{id}");
    let triage_path = format!("/findings/{id}/triage");

    let ana = sign_in(&addr, "ana", "ana's long pass phrase");
    let vic = sign_in(&addr, "vic", "vic's long pass phrase");
    let form = |csrf: &str, status: &str, note: &str| {
        format!("csrf={csrf}&status={status}&assignee=ana&tlp=green&note={}", note.replace(' ', "+"))
    };
    let xss = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let done = post_as(&addr, &ana, &triage_path, Some(&origin), &form(&ana.csrf, "investigating", xss));
    assert_eq!((done.status, done.header("location")), (303, Some(page_path.as_str())), "{}", done.body);
    assert_eq!(post_as(&addr, &ana, &triage_path, Some(&origin), "status=resolved").status, 403, "no token");
    assert_eq!(request(&addr, &triage_path, &[("Cookie", &ana.cookie)]).status, 405, "triage by GET");
    let refused = post_as(&addr, &vic, &triage_path, Some(&origin), &form(&vic.csrf, "resolved", "viewer"));
    assert_eq!(refused.status, 403, "a viewer triaged");

    let page = request(&addr, &page_path, &[("Cookie", &ana.cookie)]);
    assert_eq!(page.status, 200);
    assert_eq!(element_text(&page.body, "status"), "investigating");
    assert_eq!(element_text(&page.body, "assignee"), "ana");
    assert_eq!(element_text(&page.body, "tlp"), "TLP:GREEN");
    assert!(!page.body.contains("<script>alert(1)"), "a note's markup reached the page");
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the note is not on the page");
    let viewer_page = request(&addr, &page_path, &[("Cookie", &vic.cookie)]);
    assert_eq!(element_text(&viewer_page.body, "status"), "investigating");
    assert!(!viewer_page.body.contains("/triage\""), "a viewer is offered the triage form");
    let api = request(&addr, &format!("/api/findings/{id}/triage"), &[("Authorization", &bearer)]);
    let view: serde_json::Value = serde_json::from_str(&api.body).expect("json");
    assert_eq!(view["status"], "investigating");
    let history = view["history"].as_array().expect("history");
    let fields: Vec<&str> = history.iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["status", "assignee", "tlp", "note"]);
    assert_eq!((history[0]["actor"].as_str(), history[0]["from"].as_str()), (Some("ana"), Some("new")));
    assert!(history[0]["at"].as_str().is_some_and(|t| t.starts_with("20")));

    // Two engine runs write the store while the triage goes on.
    let runs: Vec<_> = ["again-1", "again-2"]
        .into_iter()
        .map(|dir| {
            let store = store.clone();
            let dir = tmp.path().join(dir);
            std::thread::spawn(move || {
                crate::util::scrutineer()
                    .arg("--store")
                    .arg(&store)
                    .args(["--quiet", "demo", "--scale", "0.2", "--dir"])
                    .arg(dir)
                    .output()
                    .expect("run demo")
            })
        })
        .collect();
    let mut notes = 0;
    let api_path = format!("/api/findings/{id}/triage");
    while notes < 20 || !runs.iter().all(|r| r.is_finished()) {
        notes += 1;
        let body = format!("{{\"note\": \"note {notes}\"}}");
        let r = send(
            &addr,
            "POST",
            &api_path,
            &[("Authorization", &bearer), ("Content-Type", "application/json")],
            &body,
        );
        assert_eq!(r.status, 200, "triage while engines write: {}", r.body);
        assert!(!r.body.contains("locked"), "{}", r.body);
        let f = if notes % 2 == 0 { "investigating" } else { "escalated" };
        let r =
            post_as(&addr, &ana, &triage_path, Some(&origin), &form(&ana.csrf, f, &format!("form {notes}")));
        assert_eq!(r.status, 303, "triage from the form while engines write: {}", r.body);
    }
    for run in runs {
        let out = run.join().expect("engine thread");
        assert!(
            out.status.success(),
            "an engine run failed beside the server: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let api = request(&addr, &api_path, &[("Authorization", &bearer)]);
    let view: serde_json::Value = serde_json::from_str(&api.body).expect("json");
    let history = view["history"].as_array().expect("history");
    let count = |prefix: &str| {
        history
            .iter()
            .filter(|e| e["field"] == "note" && e["to"].as_str().is_some_and(|t| t.starts_with(prefix)))
            .count()
    };
    assert_eq!(count("note "), notes, "a note was lost");
    assert_eq!(count("form "), notes, "a note from the form was lost");
    assert!(view["status"] == "investigating" || view["status"] == "escalated");
    assert_eq!(view["assignee"], "ana", "the re-runs dropped the triage");
    assert_eq!(request(&addr, &format!("/api/findings/{id}"), &[("Authorization", &bearer)]).status, 200);
    let list = request(&addr, "/findings?status=escalated&engine=infra", &[("Cookie", &ana.cookie)]);
    assert_eq!(list.status, 200);
    assert_eq!(list.body.contains(&id), view["status"] == "escalated", "the status filter");
}

/// Issue 20: `scrutineer bulletin` describes only findings at or below its marking, in
/// words, with no engine's free text (titles that name accounts, voter ids), says what
/// is not known, and refuses a level TLP 2.0 does not have.
#[test]
fn the_public_bulletin_describes_cleared_findings_in_words_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store.db");
    let dir = tmp.path().join("demo");
    scrutineer(&store, &["--quiet", "demo", "--scale", "0.2", "--dir", dir.to_str().expect("utf8")]);
    let findings: serde_json::Value = serde_json::from_str(&scrutineer(
        &store,
        &["--quiet", "--json", "findings", "list", "--limit", "100000"],
    ))
    .expect("findings json");
    let findings = findings.as_array().expect("array");
    let clear = scrutineer(&store, &["--quiet", "bulletin", "--tlp", "clear"]);
    assert!(clear.contains("No finding has been cleared for publication"), "{clear}");
    assert!(clear.contains(&format!("{} other finding(s)", findings.len())), "{clear}");
    let green = scrutineer(&store, &["--quiet", "bulletin", "--tlp", "green", "--format", "html"]);
    let influence = findings.iter().filter(|f| f["engine"] == "influence").count();
    assert!(influence > 0);
    assert_eq!(green.matches("signal of online influence activity").count(), influence.min(20), "{green}");
    assert!(green.contains("What is not known") && green.starts_with("<!doctype html>"));
    for f in findings {
        let title = f["title"].as_str().expect("title");
        assert!(!green.contains(title), "a finding's own text reached the bulletin: {title}");
        for e in f["evidence"].as_array().into_iter().flatten() {
            if let Some(voter) = e["data"]["voter_id"].as_str().filter(|v| !v.is_empty()) {
                assert!(!green.contains(voter), "a voter id reached the bulletin");
            }
        }
    }
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["bulletin", "--tlp", "white"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tlp must be"));
}

/// `curl` against the HTTPS server, trusting `ca`; `(status, headers and body)`.
fn curl(ca: &Path, args: &[&str]) -> (u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-i", "--max-time", "10", "--cacert"])
        .arg(ca)
        .args(args)
        .output()
        .expect("curl (installed by scripts/setup.sh)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Issue 20: `serve --tls-cert --tls-key` serves HTTPS (rustls): the sign-in works over
/// it, its cookies are `Secure` and the origin it expects is `https://`; plain HTTP on
/// the port gets no answer; a key that does not read is refused before serving.
#[test]
fn https_with_rustls_marks_cookies_secure() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (installed by scripts/setup.sh)");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let store = tmp.path().join("store.db");
    add_user(&store, "ana", "analyst", "ana's long pass phrase", &[]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("scrutineer"))
        .arg("--store")
        .arg(&store)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut first,
    )
    .expect("address");
    let _server = crate::server_api::Server::from_child(child);
    let addr = first.trim().strip_prefix("listening on https://").expect("an https address").to_owned();
    let base = format!("https://{addr}");

    let (status, text) = curl(&cert, &[&format!("{base}/healthz")]);
    assert_eq!(status, 200, "{text}");
    let (status, form) = curl(&cert, &[&format!("{base}/login")]);
    assert_eq!(status, 200);
    let set = form
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: scrutineer_signin="))
        .expect("cookie");
    assert!(set.contains("; Secure"), "{set}");
    let pair = set.split_once(':').expect("header").1.trim().split(';').next().expect("pair").to_owned();
    let csrf = pair.split_once('=').expect("value").1.to_owned();
    let body = format!("csrf={csrf}&name=ana&password=ana%27s+long+pass+phrase");
    let origin = format!("Origin: {base}");
    let (status, signed) =
        curl(&cert, &["-b", &pair, "-H", &origin, "--data", &body, &format!("{base}/login")]);
    assert_eq!(status, 303, "{signed}");
    let session = signed
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie: scrutineer_session="))
        .expect("session cookie");
    assert!(session.contains("; Secure") && session.contains("HttpOnly"), "{session}");
    let http_origin = format!("Origin: http://{addr}");
    let (status, _) =
        curl(&cert, &["-b", &pair, "-H", &http_origin, "--data", &body, &format!("{base}/login")]);
    assert_eq!(status, 403, "an http:// origin was taken for this https server");
    let (status, _) = curl(&cert, &[&format!("http://{addr}/healthz")]);
    assert_ne!(status, 200, "plain HTTP was answered on the HTTPS port");

    std::fs::write(&key, "not a key").expect("write");
    let out = crate::util::scrutineer()
        .arg("--store")
        .arg(&store)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"), "{}", String::from_utf8_lossy(&out.stderr));
}
