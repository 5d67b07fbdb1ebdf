//! The server's own pages (sign-in, a finding and its triage), written here because the
//! report crate renders the store, not a workspace. Every value from the store or the
//! request goes through [`esc`]. No page carries an inline script: the workspace's pages
//! load the one script of the server's own (`/static/workspace.js`, live updates), and
//! their policy allows nothing else, so markup that slipped through escaping still
//! could not run.

/// The content security policy of the server's own pages: no script but the server's
/// own file, inline styles, connections (the live updates) and forms to this server
/// only.
pub const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The live-updates script every workspace page loads.
pub const WORKSPACE_JS: &str = include_str!("workspace.js");

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}\
header{background:#1f2a44;color:#fff;padding:14px 32px}header h1{margin:0;font-size:22px}header a{color:#cde}\
main{max-width:900px;margin:0 auto;padding:8px 24px 48px}\
section{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:16px 22px;margin:18px 0}\
table{border-collapse:collapse;width:100%;font-size:13.5px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eee;vertical-align:top}\
label{display:block;margin:8px 0 2px}input,select,textarea{font-size:14px;padding:6px;border:1px solid #bbb;border-radius:4px}\
textarea{width:100%;min-height:70px}button{font-size:14px;padding:6px 14px;margin-top:10px}\
.error{color:#b3261e;font-weight:600}.muted{color:#777}pre{white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:8px;border-radius:4px}\
form.inline{display:inline}.live{font-size:12px;opacity:.8}\
.bar{fill:#4e79a7}.chart text{font-size:11px;fill:#333}svg.chart{width:100%;height:auto;display:block}";

/// A whole page around `body`.
pub fn page(title: &str, header_extra: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title}</title><style>{STYLE}</style></head><body><header><h1>{title}</h1>{header_extra}</header><main>{body}</main></body></html>",
        title = esc(title),
    )
}

/// A workspace page around `body`: `view` names what the live-updates script swaps
/// when the store changes, `finding` the finding a finding page shows.
pub fn workspace_page(
    title: &str,
    header_extra: &str,
    body: &str,
    view: &str,
    finding: Option<&str>,
) -> String {
    let finding = finding.map(|f| format!(" data-finding=\"{}\"", esc(f))).unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title}</title><style>{STYLE}</style></head><body data-view=\"{view}\"{finding}><header><h1>{title}</h1>{header_extra}</header><main>{body}</main>\
<script src=\"/static/workspace.js\" defer></script></body></html>",
        title = esc(title),
        view = esc(view),
    )
}

/// The links between the workspace's pages, and the live-updates indicator.
pub fn nav(name: &str, role: &str, csrf: Option<&str>) -> String {
    let out = csrf.map(sign_out_form).unwrap_or_default();
    format!(
        "<p>signed in as {} ({}) · <a href=\"/\">dashboard</a> · <a href=\"/overview\">overview</a> · <a href=\"/findings\">findings</a> · <a href=\"/allow-list\">allow-list</a>{out} · <span id=\"live\" class=\"live\">not live yet</span></p>",
        esc(name),
        esc(role)
    )
}

/// The sign-in form. `csrf` is the value of the sign-in cookie set with it.
pub fn sign_in_form(csrf: &str, message: Option<&str>) -> String {
    let message = message.map(|m| format!("<p class=\"error\">{}</p>", esc(m))).unwrap_or_default();
    page(
        "Scrutineer: sign in",
        "",
        &format!(
            "<section>{message}<form method=\"post\" action=\"/login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"name\">Name</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required autofocus>\
<label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
<br><button type=\"submit\">Sign in</button></form>\
<p class=\"muted\">Scripts use an API token instead: <code>Authorization: Bearer TOKEN</code>.</p></section>",
            csrf = esc(csrf)
        ),
    )
}

/// The sign-out button, for the header of every page a signed-in browser sees.
pub fn sign_out_form(csrf: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"/logout\" style=\"display:inline;margin-left:12px\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\" style=\"margin:0;padding:1px 8px;font-size:12px\">Sign out</button></form>",
        esc(csrf)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        let form = sign_in_form("\"><script>", Some("<b>no</b>"));
        assert!(!form.contains("<script>") && !form.contains("<b>no"), "{form}");
    }
}
