//! User-given text, as the server accepts it and as clients print it.
//!
//! Every string a user gives (names, notes, reasons, keys) is bounded and
//! free of characters that act on a terminal or reorder what it shows:
//! C0 controls (U+0000-U+001F, newline allowed only where a field says so),
//! DEL (U+007F), C1 controls (U+0080-U+009F), the bidirectional marks,
//! embeddings, overrides and isolates (U+061C, U+200E, U+200F,
//! U+202A-U+202E, U+2066-U+2069) and the line and paragraph separators
//! (U+2028, U+2029). [`check`] is the server's rule; [`escape`] is the
//! clients' defence in depth, for whatever the server sends (data written
//! before the rule, or a hostile server): such characters are printed as
//! visible escapes (`\x1b`, `\u{202e}`), the way `ls` and `git` do.
//!
//! [`card_number_in`] spots payment card numbers (12-19 digits, separators
//! ignored, with a valid Luhn sum), which are never to be stored, logged
//! or echoed.

use std::borrow::Cow;

/// Whether `c` may not appear in user-given text (see the module doc).
/// `newline_ok`: U+000A is allowed (multi-line fields such as notes).
pub fn is_forbidden(c: char, newline_ok: bool) -> bool {
    match c {
        '\n' => !newline_ok,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// The rule for one text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Fewest characters (after trimming white space at both ends).
    pub min: usize,
    /// Most characters (Unicode scalar values, after trimming).
    pub max: usize,
    /// Newlines allowed (notes).
    pub multiline: bool,
}

impl Rule {
    pub const fn line(min: usize, max: usize) -> Rule {
        Rule {
            min,
            max,
            multiline: false,
        }
    }
    pub const fn lines(min: usize, max: usize) -> Rule {
        Rule {
            min,
            max,
            multiline: true,
        }
    }
}

/// Restaurant, item and modifier names.
pub const NAME: Rule = Rule::line(1, 100);
/// Kitchen stations (may be empty).
pub const STATION: Rule = Rule::line(0, 40);
/// An item's allergy information (may be empty).
pub const ALLERGENS: Rule = Rule::line(0, 200);
/// An order's note for the kitchen (may be empty; newlines allowed).
pub const NOTE: Rule = Rule::lines(0, 500);
/// A rejection reason.
pub const REASON: Rule = Rule::line(1, 200);
/// A table, or the name an order is called out by (takeout, delivery).
pub const SERVICE: Rule = Rule::line(1, 40);

/// Checks `s` (trimmed) against `rule`; the error names `field` and never
/// quotes the text itself.
pub fn check(field: &str, s: &str, rule: Rule) -> Result<(), String> {
    let t = s.trim();
    let n = t.chars().count();
    if n < rule.min || n > rule.max {
        return Err(if rule.min == 0 {
            format!("{field} must be at most {} characters, not {n}", rule.max)
        } else {
            format!(
                "{field} must be {}-{} characters, not {n}",
                rule.min, rule.max
            )
        });
    }
    if let Some(c) = t.chars().find(|c| is_forbidden(*c, rule.multiline)) {
        return Err(format!(
            "{field} must not contain control or bidirectional-override characters (found U+{:04X}){}",
            u32::from(c),
            if rule.multiline {
                ""
            } else {
                "; it is one line"
            }
        ));
    }
    Ok(())
}

/// `s` with every forbidden character (newline included unless
/// `keep_newline`) written as a visible escape: `\x1b` below U+0100,
/// `\u{202e}` above. Borrowed when there is nothing to escape.
pub fn escape(s: &str, keep_newline: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_forbidden(c, keep_newline)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_forbidden(c, keep_newline) {
            let n = u32::from(c);
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON document's text with the forbidden characters JSON encoders
/// leave raw (DEL, C1, the bidirectional ones; C0 are always escaped)
/// written as `\uXXXX`: the same document, harmless on a terminal. Only
/// valid on JSON text, where such characters can only be inside strings.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| is_forbidden(c, true)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_forbidden(c, true) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Separators people put between a card number's digit groups.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '_' | '/' | ':' | ',' | '\u{a0}')
}

/// The Luhn check of a digit string.
fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(*d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn looks_like_pan(digits: &[u8]) -> bool {
    (12..=19).contains(&digits.len()) && luhn(digits)
}

/// Whether `s` carries something that looks like a payment card number:
/// a run of digits and separators (space, `-`, `.`, `_`, `/`, `:`, `,`)
/// holding 12-19 digits with a valid Luhn sum. With `all_digits`, the
/// digits of the whole string are also taken together (for tokens, where
/// anything may separate them).
pub fn card_number_in(s: &str, all_digits: bool) -> bool {
    let mut run: Vec<u8> = Vec::new();
    let mut all: Vec<u8> = Vec::new();
    for c in s.chars() {
        if let Some(d) = c.to_digit(10).filter(|_| c.is_ascii_digit()) {
            let d = u8::try_from(d).unwrap_or(0);
            run.push(d);
            all.push(d);
        } else if !is_separator(c) {
            if looks_like_pan(&run) {
                return true;
            }
            run.clear();
        }
    }
    looks_like_pan(&run) || (all_digits && looks_like_pan(&all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters() {
        for c in [
            '\u{0}', '\u{7}', '\t', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}',
            '\u{2066}', '\u{200f}', '\u{2028}',
        ] {
            assert!(is_forbidden(c, true), "{c:?}");
        }
        assert!(is_forbidden('\n', false));
        for c in ['a', 'é', '€', '🍕', ' ', '\u{a0}', 'ß'] {
            assert!(!is_forbidden(c, false), "{c:?}");
        }
        assert!(!is_forbidden('\n', true));
    }

    #[test]
    fn check_bounds_and_characters() {
        assert!(check("name", "Trattoria Roma", NAME).is_ok());
        assert!(check("name", "  Café  ", NAME).is_ok());
        assert!(check("name", "   ", NAME).unwrap_err().contains("1-100"));
        assert!(check("name", &"x".repeat(101), NAME).is_err());
        assert!(
            check("name", &"é".repeat(100), NAME).is_ok(),
            "characters, not bytes"
        );
        let e = check("name", "a\u{1b}]0;pwned\u{7}b", NAME).unwrap_err();
        assert!(e.contains("U+001B") && !e.contains("pwned"), "{e}");
        assert!(check("name", "two\nlines", NAME).is_err());
        assert!(check("note", "two\nlines", NOTE).is_ok());
        assert!(check("note", "bell\u{7}", NOTE).is_err());
        assert!(check("note", "", NOTE).is_ok());
        assert!(check("name", "abc\u{202e}cba", NAME).is_err());
    }

    #[test]
    fn escapes_are_visible_and_harmless() {
        assert!(matches!(escape("plain", false), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\u{1b}[2Jb\u{7}", false),
            "a\\x1b[2Jb\\x07".to_string()
        );
        assert_eq!(escape("x\u{9b}y\u{202e}", false), "x\\x9by\\u{202e}");
        assert_eq!(escape("l1\nl2", true), "l1\nl2");
        assert_eq!(escape("l1\nl2", false), "l1\\x0al2");
        let json = serde_json::to_string(&"a\u{1b}b\u{9b}c\u{202e}").unwrap();
        let safe = escape_json(&json);
        assert!(!safe.chars().any(|c| is_forbidden(c, true)), "{safe}");
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "a\u{1b}b\u{9b}c\u{202e}", "still the same document");
    }

    #[test]
    fn card_numbers_are_spotted_with_any_separators() {
        for pan in [
            "4242424242424242",
            "4111.1111.1111.1111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5555555555554444",
            "378282246310005",
            "pm_4242424242424242",
            "call me, card 4242 4242 4242 4242 thanks",
        ] {
            assert!(card_number_in(pan, false), "{pan}");
        }
        assert!(card_number_in("4242x4242y4242z4242", true));
        assert!(!card_number_in("4242x4242y4242z4242", false));
        for not in [
            "pm_card_visa",
            "4242424242424241",     // Luhn fails
            "12345678901",          // too short
            "42424242424242424242", // 20 digits
            "ring twice at 06 12 34 56 78",
            "",
        ] {
            assert!(!card_number_in(not, true), "{not}");
        }
    }
}
