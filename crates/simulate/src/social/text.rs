//! Words, names and sentences for simulated posts.
//!
//! Organic text is built from templates over per-topic word lists, so that two organic
//! posts rarely share their wording unless they share a source (a share button, a stock
//! reply). Operations write from their own narrative word list, copy each other with small
//! edits, or paraphrase through a synonym table when evasive.

use crate::rng::Draws;

pub const TOPICS: [&str; 8] =
    ["politics_left", "politics_right", "news", "sports", "entertainment", "tech", "local", "music"];

/// Share of accounts per topic community.
pub const TOPIC_WEIGHTS: [f64; 8] = [0.17, 0.17, 0.14, 0.14, 0.13, 0.09, 0.08, 0.08];

const NOUNS: [&[&str]; 8] = [
    &[
        "healthcare",
        "climate",
        "voting rights",
        "the debate",
        "Hillary",
        "the campaign",
        "minimum wage",
        "immigration reform",
        "the supreme court",
        "student debt",
        "equal pay",
        "the rally",
        "Bernie",
        "planned parenthood",
        "gun violence",
        "the economy",
        "the volunteers",
        "early voting",
        "the polls",
        "Obama",
        "the speech",
        "the ground game",
        "women",
        "the middle class",
    ],
    &[
        "Trump",
        "the border",
        "the wall",
        "Obamacare",
        "the second amendment",
        "taxes",
        "the emails",
        "the media",
        "the rally",
        "veterans",
        "jobs",
        "the debate",
        "Pence",
        "the establishment",
        "the polls",
        "the swamp",
        "our troops",
        "small business",
        "the constitution",
        "the campaign",
        "law enforcement",
        "trade deals",
        "the FBI",
        "Wikileaks",
    ],
    &[
        "the report",
        "the hearing",
        "the senate",
        "the storm",
        "the investigation",
        "the markets",
        "the governor",
        "the vote",
        "the poll",
        "the court",
        "the announcement",
        "the interview",
        "the press conference",
        "the statement",
        "the hurricane",
        "the police",
        "the economy",
        "the mayor",
        "the bill",
        "the leak",
        "the debate",
        "the forecast",
        "the ruling",
        "congress",
    ],
    &[
        "the game",
        "the Cowboys",
        "the Cubs",
        "the playoffs",
        "the refs",
        "the quarterback",
        "the defense",
        "the World Series",
        "fantasy football",
        "the coach",
        "the Warriors",
        "the season",
        "the draft",
        "the Patriots",
        "the bullpen",
        "overtime",
        "the Giants",
        "the halftime show",
        "the rookie",
        "the trade",
        "the Steelers",
        "the Packers",
        "LeBron",
        "the Indians",
    ],
    &[
        "the finale",
        "the new episode",
        "the trailer",
        "Westworld",
        "the movie",
        "the premiere",
        "the cast",
        "the red carpet",
        "the album",
        "the show",
        "the award",
        "Stranger Things",
        "the soundtrack",
        "the sequel",
        "the season opener",
        "the interview",
        "the book",
        "the podcast",
        "the concert",
        "the tour",
        "the late show",
        "SNL",
        "the costume",
        "the meme",
    ],
    &[
        "the new phone",
        "the update",
        "the app",
        "the launch",
        "the battery",
        "the headphone jack",
        "the outage",
        "the hack",
        "the keynote",
        "the startup",
        "the laptop",
        "the beta",
        "the bug",
        "the data breach",
        "VR",
        "self-driving cars",
        "the router",
        "the cloud",
        "the code review",
        "the release",
        "machine learning",
        "the API",
        "the password",
        "the server",
    ],
    &[
        "the traffic",
        "the weather",
        "the school board",
        "the festival",
        "the new restaurant",
        "downtown",
        "the farmers market",
        "the bridge",
        "the football game",
        "the library",
        "the city council",
        "the parade",
        "the fair",
        "the road work",
        "the storm",
        "the county",
        "the local team",
        "the coffee shop",
        "the fundraiser",
        "the park",
        "the bus",
        "the museum",
        "the game tonight",
        "the neighborhood",
    ],
    &[
        "the new single",
        "the album",
        "the concert",
        "the tour",
        "the setlist",
        "the video",
        "the lyrics",
        "the band",
        "the playlist",
        "the encore",
        "the festival",
        "the remix",
        "the opening act",
        "the vinyl",
        "the drummer",
        "the bridge",
        "the chorus",
        "the record",
        "the acoustic version",
        "the collab",
        "the tickets",
        "the show",
        "the live stream",
        "the EP",
    ],
];

const VERBS: [&str; 40] = [
    "changed",
    "ruined",
    "saved",
    "explained",
    "proved",
    "missed",
    "nailed",
    "broke",
    "won",
    "lost",
    "surprised",
    "shocked",
    "helped",
    "fixed",
    "questioned",
    "exposed",
    "ignored",
    "defended",
    "attacked",
    "celebrated",
    "made",
    "killed",
    "ended",
    "started",
    "beat",
    "backed",
    "covered",
    "blew",
    "handled",
    "delivered",
    "crushed",
    "dodged",
    "owned",
    "sparked",
    "topped",
    "turned",
    "wrecked",
    "rescued",
    "doubled",
    "revealed",
];

const ADJS: [&str; 40] = [
    "amazing",
    "terrible",
    "huge",
    "crazy",
    "honest",
    "weird",
    "great",
    "sad",
    "unbelievable",
    "awesome",
    "boring",
    "wild",
    "important",
    "ridiculous",
    "beautiful",
    "scary",
    "funny",
    "perfect",
    "awful",
    "brilliant",
    "strange",
    "tough",
    "incredible",
    "surprising",
    "solid",
    "predictable",
    "insane",
    "smart",
    "long",
    "short",
    "late",
    "early",
    "quiet",
    "loud",
    "real",
    "fake",
    "big",
    "small",
    "fresh",
    "old",
];

const OPENERS: [&str; 24] = [
    "Honestly",
    "Wow",
    "So",
    "Ok",
    "Look",
    "Well",
    "Yes",
    "No",
    "Seriously",
    "Lol",
    "Ugh",
    "Wait",
    "Omg",
    "Breaking",
    "Reminder",
    "Fun fact",
    "Unpopular opinion",
    "Hot take",
    "Today",
    "Tonight",
    "Update",
    "Listen",
    "Just saw",
    "Fact",
];

const ENDINGS: [&str; 20] = [
    "",
    "",
    "",
    "",
    "!",
    "!!",
    "?",
    "...",
    " lol",
    " smh",
    " 😂",
    " 🙄",
    " 🔥",
    " 👏",
    " tbh",
    " for real",
    " again",
    " right now",
    " today",
    " 😡",
];

/// Stock replies many people write word for word.
pub const STOCK_REPLIES: [&str; 30] = [
    "Thank you!",
    "This!",
    "So true",
    "lol",
    "Exactly",
    "Agreed",
    "Congrats!",
    "Happy birthday!",
    "Love this",
    "Yes!",
    "Same",
    "Wow",
    "No way",
    "Amen",
    "😂😂😂",
    "Thanks for sharing",
    "Well said",
    "100%",
    "Great point",
    "Can't wait",
    "Me too",
    "Love it",
    "Facts",
    "omg",
    "Thank you so much!",
    "Nope",
    "Preach",
    "Truth",
    "So sad",
    "Good luck!",
];

const FIRST: [&str; 48] = [
    "jen", "mike", "sarah", "chris", "jess", "matt", "ash", "josh", "amanda", "dave", "kate", "ryan",
    "emily", "nick", "lauren", "tyler", "meg", "brian", "kelly", "adam", "nicole", "kevin", "rachel",
    "jason", "steph", "eric", "heather", "justin", "amy", "brandon", "liz", "sam", "alex", "maria", "jose",
    "tony", "dee", "kim", "lisa", "mark", "paul", "anna", "joe", "beth", "dan", "carlos", "tasha", "jamal",
];

const SECOND: [&str; 40] = [
    "smith",
    "jones",
    "fan",
    "_tx",
    "_nyc",
    "4life",
    "rocks",
    "writes",
    "_official",
    "lee",
    "miller",
    "davis",
    "garcia",
    "brown",
    "wilson",
    "moore",
    "taylor",
    "thomas",
    "white",
    "martin",
    "_ok",
    "_real",
    "_ca",
    "_fl",
    "lopez",
    "clark",
    "lewis",
    "hall",
    "young",
    "king",
    "mom",
    "dad",
    "_xo",
    "runs",
    "reads",
    "says",
    "_b",
    "_j",
    "ward",
    "cole",
];

/// Themes of injected operations: each operation writes from one.
const OP_NOUNS: [&[&str]; 4] = [
    &[
        "the rigged election",
        "voter fraud",
        "the crooked media",
        "the corrupt elite",
        "illegal voters",
        "the real polls",
        "the deep state",
        "dead voters",
        "the machines",
        "the stolen votes",
        "the cover-up",
        "the globalists",
    ],
    &[
        "police brutality",
        "the system",
        "our community",
        "the racist cops",
        "the election",
        "both candidates",
        "the lies",
        "our votes",
        "the protest",
        "the truth",
        "black lives",
        "the politicians",
    ],
    &[
        "the refugees",
        "the migrants",
        "the border crisis",
        "crime in our cities",
        "the invasion",
        "our safety",
        "the terror threat",
        "our families",
        "the open borders",
        "sanctuary cities",
        "the danger",
        "our children",
    ],
    &[
        "the war party",
        "the NATO lies",
        "the regime change",
        "the foreign wars",
        "the sanctions",
        "the warmongers",
        "the military budget",
        "the propaganda",
        "the hypocrisy",
        "our veterans",
        "the arms deals",
        "the proxy war",
    ],
];

const OP_VERBS: [&str; 16] = [
    "is destroying",
    "will never fix",
    "is hiding",
    "is lying about",
    "has betrayed",
    "is covering up",
    "cannot stop",
    "wants to silence",
    "will steal",
    "is ignoring",
    "exposed",
    "is rigging",
    "is paying for",
    "has ruined",
    "is scared of",
    "will end",
];

const OP_CALLS: [&str; 16] = [
    "Wake up America",
    "Share before they delete it",
    "Spread the word",
    "Do your research",
    "They don't want you to see this",
    "Retweet if you agree",
    "Stay woke",
    "Enough is enough",
    "The truth will come out",
    "Don't believe the media",
    "Read this now",
    "We the people",
    "This is not a drill",
    "Open your eyes",
    "Stand up",
    "Pass it on",
];

/// Synonyms used to paraphrase (evasive copy-paste).
const SYNONYMS: [(&str, &str); 24] = [
    ("destroying", "wrecking"),
    ("hiding", "concealing"),
    ("lying", "deceiving us"),
    ("betrayed", "sold out"),
    ("silence", "shut up"),
    ("steal", "take"),
    ("ignoring", "dismissing"),
    ("exposed", "revealed"),
    ("rigging", "fixing"),
    ("ruined", "wrecked"),
    ("scared", "afraid"),
    ("America", "USA"),
    ("truth", "facts"),
    ("media", "press"),
    ("corrupt", "crooked"),
    ("real", "actual"),
    ("never", "not ever"),
    ("cannot", "can't"),
    ("wants", "is trying"),
    ("Share", "Post"),
    ("Spread", "Share"),
    ("people", "citizens"),
    ("now", "today"),
    ("end", "finish"),
];

fn pick<'a>(d: &mut Draws, list: &[&'a str]) -> &'a str {
    list[d.below(list.len() as u64) as usize]
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An organic sentence about a topic.
pub fn organic_sentence(d: &mut Draws, topic: usize) -> String {
    let nouns = NOUNS[topic % NOUNS.len()];
    let n1 = pick(d, nouns);
    let n2 = pick(d, nouns);
    let v = pick(d, &VERBS);
    let a = pick(d, &ADJS);
    let a2 = pick(d, &ADJS);
    let end = pick(d, &ENDINGS);
    let s = match d.below(10) {
        0 => format!("{}, {n1} {v} {n2}{end}", pick(d, &OPENERS)),
        1 => format!("{} is so {a} right now{end}", capitalise(n1)),
        2 => format!("Can't believe {n1} {v} {n2}{end}"),
        3 => format!("{}: {a} {n1}, {a2} {n2}{end}", pick(d, &OPENERS)),
        4 => format!("Who else thinks {n1} {v} {n2}? {}", capitalise(a)),
        5 => format!("{} {n1} was {a}. {} {n2} was {a2}{end}", pick(d, &OPENERS), capitalise(v)),
        6 => format!("I think {n1} {v} {n2} and that is {a}{end}"),
        7 => format!("{} {} {a} {n1} {v} {n2}{end}", pick(d, &OPENERS), d.below(100)),
        8 => format!("Not sure how {n1} {v} {n2} but {a2}{end}"),
        _ => format!("{} the {a} thing about {n1}{end}", pick(d, &OPENERS)),
    };
    // Most people's posts differ in small ways even on one subject: a word of their own.
    if d.chance(0.5) { format!("{s} {}", pick(d, &ADJS)) } else { s }
}

/// A stock reply (identical across accounts) or a sentence.
pub fn reply_text(d: &mut Draws, topic: usize) -> String {
    if d.chance(0.12) { pick(d, &STOCK_REPLIES).to_string() } else { organic_sentence(d, topic) }
}

/// A headline for an article: deterministic in the article key, so every share of one
/// article by a share button carries the same words.
pub fn headline(article_key: u64, topic: usize) -> String {
    let mut d = Draws::new(article_key, 7, 0x4EAD);
    let nouns = NOUNS[topic % NOUNS.len()];
    format!(
        "{} {} {} {}, {} says",
        capitalise(pick(&mut d, &ADJS)),
        pick(&mut d, nouns),
        pick(&mut d, &VERBS),
        pick(&mut d, nouns),
        pick(&mut d, &["report", "poll", "official", "source", "study", "analysis"])
    )
}

/// A URL slug from an article key.
pub fn slug(article_key: u64) -> String {
    let mut d = Draws::new(article_key, 11, 0x5106);
    let words: Vec<&str> = (0..4).map(|_| pick(&mut d, &ADJS)).collect();
    format!("{}-{}", words.join("-"), d.below(100_000))
}

/// A screen name.
pub fn handle(d: &mut Draws, index: u64) -> String {
    let f = pick(d, &FIRST);
    let s = pick(d, &SECOND);
    format!("{f}{s}{}", index % 10_000)
}

/// A message of an operation's theme.
pub fn op_message(d: &mut Draws, theme: usize) -> String {
    let nouns = OP_NOUNS[theme % OP_NOUNS.len()];
    let n1 = pick(d, nouns);
    let n2 = pick(d, nouns);
    let v = pick(d, &OP_VERBS);
    let call = pick(d, &OP_CALLS);
    match d.below(4) {
        0 => format!("{} {v} {n2}. {call}!", capitalise(n1)),
        1 => format!("{call}: {n1} {v} {n2}"),
        2 => format!("Why is nobody talking about how {n1} {v} {n2}? {call}"),
        _ => format!("{} {v} {n2} and {} {v} {n1}. {call}", capitalise(n1), pick(d, nouns)),
    }
}

/// A copy with a small edit: one word added, dropped or swapped, or punctuation changed.
pub fn small_edit(d: &mut Draws, text: &str) -> String {
    let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
    match d.below(4) {
        0 => words.push(pick(d, &["!!", "🇺🇸", "👇", "!!!", "#MAGA2016", "smh", "RT"]).to_string()),
        1 if words.len() > 4 => {
            let i = d.below(words.len() as u64) as usize;
            words.remove(i);
        }
        2 => {
            let i = d.below(words.len() as u64) as usize;
            words.insert(i, pick(d, &["really", "totally", "again", "now", "just"]).to_string());
        }
        _ => {
            if let Some(last) = words.last_mut() {
                last.push_str(pick(d, &["!", ".", "?!", " 😡"]));
            }
        }
    }
    words.join(" ")
}

/// A paraphrase: synonyms swapped, clauses reordered, words added; what an operation does
/// to defeat copy-paste detection.
pub fn paraphrase(d: &mut Draws, text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for w in text.split(' ') {
        let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
        let swapped = SYNONYMS.iter().find(|(a, _)| *a == bare).map(|(_, b)| *b);
        match swapped {
            Some(b) if d.chance(0.7) => out.push(w.replacen(bare, b, 1)),
            _ => out.push(w.to_string()),
        }
    }
    let mut s = out.join(" ");
    // Reorder the clauses around the first full stop or colon.
    if let Some(i) = s.find(['.', ':']) {
        let (a, b) = s.split_at(i);
        let b = b[1..].trim();
        if !b.is_empty() && d.chance(0.5) {
            s = format!("{b} - {a}");
        }
    }
    let prefix = pick(d, &["", "", "Honestly, ", "Think about it: ", "Again: ", "Folks, ", "Listen. "]);
    let suffix = pick(d, &["", " #truth", " 🇺🇸", " !!", " Pass it on.", " Read it.", " Sad."]);
    format!("{prefix}{s}{suffix}")
}

/// A campaign hashtag for an operation.
pub fn campaign_tag(d: &mut Draws) -> String {
    let a = pick(d, &["Rigged", "Stop", "Real", "Wake", "Never", "Expose", "Fight", "Save", "Dump", "Stand"]);
    let b = pick(
        d,
        &["Election", "Media", "Fraud", "Truth", "Votes", "America", "Lies", "Elite", "System", "Hillary"],
    );
    let c = pick(d, &["", "Now", "Today", "Again", "Forever", "Fail", "Exposed", "Must", "Is", "For"]);
    format!("#{a}{b}{c}{}", d.below(1000))
}

/// Hashtag vocabularies per topic (heavy-tailed use: the first are the most used).
pub fn topic_hashtags(topic: usize) -> &'static [&'static str] {
    const T: [&[&str]; 8] = [
        &[
            "#ImWithHer",
            "#Election2016",
            "#DemsInPhilly",
            "#StrongerTogether",
            "#Hillary",
            "#VoteBlue",
            "#FeelTheBern",
            "#Resist",
            "#ClimateChange",
            "#GunControl",
            "#LoveTrumpsHate",
            "#StillWithHer",
            "#NastyWoman",
            "#Dems",
            "#p2",
            "#UniteBlue",
        ],
        &[
            "#MAGA",
            "#Trump2016",
            "#TrumpPence16",
            "#Election2016",
            "#NeverHillary",
            "#DrainTheSwamp",
            "#tcot",
            "#CrookedHillary",
            "#2A",
            "#PodestaEmails",
            "#Trump",
            "#AmericaFirst",
            "#pjnet",
            "#WakeUpAmerica",
            "#LockHerUp",
            "#GOP",
        ],
        &[
            "#news",
            "#breaking",
            "#BreakingNews",
            "#Election2016",
            "#politics",
            "#world",
            "#economy",
            "#HurricaneMatthew",
            "#DAPL",
            "#Syria",
            "#weather",
            "#Brexit",
            "#business",
            "#health",
            "#science",
            "#media",
        ],
        &[
            "#NFL",
            "#WorldSeries",
            "#MLB",
            "#NBA",
            "#FlyTheW",
            "#GoCubsGo",
            "#Cowboys",
            "#FantasyFootball",
            "#MNF",
            "#TNF",
            "#SNF",
            "#CFB",
            "#Rally",
            "#Patriots",
            "#Steelers",
            "#NHL",
        ],
        &[
            "#Westworld",
            "#TheWalkingDead",
            "#SNL",
            "#GameOfThrones",
            "#StrangerThings",
            "#Halloween",
            "#TWD",
            "#BlackMirror",
            "#Oscars",
            "#TBT",
            "#FF",
            "#Netflix",
            "#ThisIsUs",
            "#AHS",
            "#Luke",
            "#Movies",
        ],
        &[
            "#iPhone7",
            "#tech",
            "#Android",
            "#AI",
            "#Apple",
            "#Google",
            "#startup",
            "#cybersecurity",
            "#VR",
            "#Pixel",
            "#Note7",
            "#IoT",
            "#dev",
            "#Microsoft",
            "#bigdata",
            "#DDoS",
        ],
        &[
            "#traffic",
            "#weather",
            "#local",
            "#community",
            "#food",
            "#fall",
            "#Halloween",
            "#weekend",
            "#smallbusiness",
            "#school",
            "#Thanksgiving",
            "#fair",
            "#downtown",
            "#coffee",
            "#events",
            "#citylife",
        ],
        &[
            "#NowPlaying",
            "#music",
            "#newmusic",
            "#concert",
            "#hiphop",
            "#country",
            "#rock",
            "#spotify",
            "#NP",
            "#tour",
            "#album",
            "#MusicMonday",
            "#jazz",
            "#pop",
            "#live",
            "#vinyl",
        ],
    ];
    T[topic % T.len()]
}

/// A headline of a share-button outlet: deterministic in the article key, so every reader
/// who clicks the button posts the same words.
pub fn outlet_headline(article_key: u64, topic: usize) -> String {
    let mut d = Draws::new(article_key, 13, 0x0B7E);
    let nouns = NOUNS[topic % NOUNS.len()];
    let who = pick(&mut d, nouns);
    let what = pick(&mut d, nouns);
    let lead = capitalise(who);
    match d.below(6) {
        0 => format!("{lead}'s plan for {what} could cost US nearly {}K jobs", 100 + d.below(900)),
        1 => format!(
            "{lead} {} {what}, and {} are {}",
            pick(&mut d, &VERBS),
            pick(&mut d, nouns),
            pick(&mut d, &ADJS)
        ),
        2 => format!("Poll: {}% of voters say {what} {} {who}", 20 + d.below(70), pick(&mut d, &VERBS)),
        3 => format!("What {who} just said about {what} is {}", pick(&mut d, &ADJS)),
        4 => format!("{lead} {} {what} in {} move", pick(&mut d, &VERBS), pick(&mut d, &ADJS)),
        _ => format!("Exclusive: {who} and the {} truth about {what}", pick(&mut d, &ADJS)),
    }
}

const CREATOR_LAST: [&str; 24] = [
    "Rivera", "Nguyen", "Patel", "Kowalski", "Okafor", "Haynes", "Delgado", "Brooks", "Moreau", "Sullivan",
    "Tran", "Fischer", "Jensen", "Castillo", "Reyes", "Park", "Bishop", "Foster", "Vance", "Quinn", "Ortega",
    "Hale", "Monroe", "Sato",
];

/// A short-video creator's display name, deterministic in the creator's rank.
pub fn creator_name(key: u64) -> String {
    let mut d = Draws::new(key, 17, 0xC2EA);
    format!("{} {}", capitalise(pick(&mut d, &FIRST)), pick(&mut d, &CREATOR_LAST))
}

/// The title of a YouTube video, deterministic in the video key.
pub fn video_title(key: u64) -> String {
    let mut d = Draws::new(key, 19, 0x717E);
    let topic = d.below(NOUNS.len() as u64) as usize;
    let n = pick(&mut d, NOUNS[topic]);
    match d.below(4) {
        0 => format!(
            "{} - {} ({})",
            capitalise(n),
            capitalise(pick(&mut d, &ADJS)),
            pick(&mut d, &["Official Video", "Full Speech", "Highlights", "Live"])
        ),
        1 => format!("Top 10 {} moments of {n}", pick(&mut d, &ADJS)),
        2 => format!("{} reacts to {n}", capitalise(pick(&mut d, &FIRST))),
        _ => format!(
            "The {} {n} | {}",
            pick(&mut d, &ADJS),
            pick(&mut d, &["Late Show", "Full Episode", "Reaction", "Explained"])
        ),
    }
}

/// Places people post photos from (the photo app's "Just posted a photo @ place").
pub const PLACES: [&str; 30] = [
    "Starbucks",
    "Central Park",
    "Walmart",
    "Target",
    "Wrigley Field",
    "Downtown Austin",
    "Times Square",
    "Chipotle Mexican Grill",
    "Planet Fitness",
    "Madison Square Garden",
    "Lake Michigan",
    "Disneyland",
    "The Home Depot",
    "Golden Gate Bridge",
    "LAX Airport",
    "Hartsfield-Jackson Atlanta International Airport",
    "Whole Foods Market",
    "AT&T Stadium",
    "Costco Wholesale",
    "Fenway Park",
    "Union Station",
    "Navy Pier",
    "South Beach",
    "Red Rocks Amphitheatre",
    "Barnes & Noble",
    "Olive Garden",
    "Downtown Nashville",
    "Pike Place Market",
    "French Quarter",
    "The Bean",
];

/// The hashtag of a televised event: a broadcaster or an association, the kind of event,
/// often the year (#NABJ16, #CNNTownHall, #VetsForum).
pub fn event_tag(d: &mut Draws, year: i32) -> String {
    let host = pick(
        d,
        &[
            "NABJ",
            "CNN",
            "NBC",
            "FOX",
            "PBS",
            "ABC",
            "CBS",
            "NAACP",
            "AARP",
            "Vets",
            "Univision",
            "MSNBC",
            "CSPAN",
            "NPR",
        ],
    );
    let kind = pick(d, &["TownHall", "Forum", "Panel", "Debate", "Convention", "Live", "", "Special"]);
    if d.chance(0.5) { format!("#{host}{kind}{:02}", year.rem_euclid(100)) } else { format!("#{host}{kind}") }
}
