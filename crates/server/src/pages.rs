//! The server's own pages (sign-in, a finding and its triage), written here because the
//! report crate renders the store, not a workspace. Every value from the store or the
//! request goes through [`esc`]; no page carries a script.

/// The content security policy of the server's own pages: no script at all, inline
/// styles, forms posting back to this server only.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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
form.inline{display:inline}";

/// A whole page around `body`.
pub fn page(title: &str, header_extra: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title}</title><style>{STYLE}</style></head><body><header><h1>{title}</h1>{header_extra}</header><main>{body}</main></body></html>",
        title = esc(title),
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
