//! Stable tool names (slugs) for the active shell scripts, whatever order the API lists them in.

use super::shell_script::ShellScript;
use crate::catalog;
use std::collections::BTreeSet;

/// Every script tool name starts with this, so calls can be told apart from the static tools.
pub const PREFIX: &str = "cw-rmm-script-";
/// Tool names are at most 64 characters.
const MAX_NAME: usize = 64;
/// Room kept for a collision suffix such as `-12`.
const SUFFIX_ROOM: usize = 4;

/// U+00C0..=U+017F (Latin-1 letters and Latin Extended-A) folded to lowercase ASCII, one byte
/// per code point, so "Réinitialiser" keeps its `e` instead of splitting the word. Digits stand
/// for two-letter foldings (see [`fold`]); `_` is no letter (× and ÷).
const LATIN: &str = "aaaaaa1ceeeeiiiidnooooo_ouuuuy23aaaaaa1ceeeeiiiidnooooo_ouuuuy2y\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii44jjkkkllllllllllnnnnnnnnnoooooo55rrrrrrssssssss\
ttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// The lowercase ASCII letters of a Latin letter with diacritics (é -> e, ß -> ss), or "".
fn fold(c: char) -> &'static str {
    let i = (c as usize).wrapping_sub(0xC0);
    match LATIN.get(i..i + 1) {
        Some("1") => "ae",
        Some("2") => "th",
        Some("3") => "ss",
        Some("4") => "ij",
        Some("5") => "oe",
        Some("_") | None => "",
        Some(letter) => letter,
    }
}

/// Lowercase ASCII letters and digits joined by single dashes; accented Latin letters are
/// transliterated, other characters separate words.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
            continue;
        }
        let letters = fold(c);
        if !letters.is_empty() {
            slug.push_str(letters);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let max = MAX_NAME - PREFIX.len() - SUFFIX_ROOM;
    slug.truncate(max);
    slug.trim_end_matches('-').to_string()
}

fn base_slug(script: &ShellScript) -> String {
    let slug = slugify(&script.name);
    if !slug.is_empty() {
        return slug;
    }
    let id: String = script
        .template_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!("script-{}", id.to_ascii_lowercase())
}

/// Tool names of the active scripts as `(templateId, name)`, independent of listing order:
/// equal slugs are ordered by templateId and get `-2`, `-3`, … after the first.
pub fn assign_tool_names(scripts: &[ShellScript]) -> Vec<(String, String)> {
    let mut entries: Vec<(String, &str)> = scripts
        .iter()
        .filter(|s| s.active)
        .map(|s| (base_slug(s), s.template_id.as_str()))
        .collect();
    entries.sort();
    entries.dedup_by(|a, b| a.1 == b.1);
    let mut used: BTreeSet<String> = entries.iter().map(|(slug, _)| slug.clone()).collect();
    let mut names = Vec::with_capacity(entries.len());
    for (index, (slug, id)) in entries.iter().enumerate() {
        let duplicate = index > 0 && entries[index - 1].0 == *slug;
        let slug = if duplicate {
            let mut n = 2;
            loop {
                let candidate = format!("{slug}-{n}");
                if !used.contains(&candidate)
                    && !catalog::is_static(&format!("{PREFIX}{candidate}"))
                {
                    used.insert(candidate.clone());
                    break candidate;
                }
                n += 1;
            }
        } else {
            slug.clone()
        };
        names.push((id.to_string(), format!("{PREFIX}{slug}")));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn script(id: &str, name: &str, state: &str) -> ShellScript {
        ShellScript::from_json(
            &json!({"templateId": id, "name": name, "state": state, "jsonSchema": "garbage{"}),
        )
        .unwrap()
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Disk Cleanup"), "disk-cleanup");
        assert_eq!(
            slugify("  Restart   Print Spooler (v2)! "),
            "restart-print-spooler-v2"
        );
        assert_eq!(slugify("Über-Wartung"), "uber-wartung");
        assert_eq!(slugify("___"), "");
        let long = slugify(&"a".repeat(100));
        assert_eq!(long.len(), MAX_NAME - PREFIX.len() - SUFFIX_ROOM);
        assert_eq!(slugify(&format!("{} b", "a".repeat(45))), "a".repeat(45));
    }

    #[test]
    fn accented_latin_letters_are_transliterated() {
        assert_eq!(
            slugify("Réinitialiser le spouleur d'impression"),
            "reinitialiser-le-spouleur-d-impression"
        );
        assert_eq!(slugify("Größe prüfen"), "grosse-prufen");
        assert_eq!(
            slugify("Ærø Œuvre Ñandú Çà Åsa"),
            "aero-oeuvre-nandu-ca-asa"
        );
        assert_eq!(slugify("ÞÐĲ Łódź Šťŕ ſ"), "thdij-lodz-str-s");
        // Letters beyond the table and non-letters in it still separate words.
        assert_eq!(slugify("a×b÷c 日本 ƀ"), "a-b-c");
        // Every entry of the table is one ASCII byte: U+00C0..=U+017F, 192 code points.
        assert_eq!(LATIN.len(), 0x180 - 0xC0);
        assert!(LATIN
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    }

    #[test]
    fn names_are_stable_unique_and_skip_inactive() {
        let a = script(
            "bbbb0000-0000-4000-8000-000000000002",
            "Disk Cleanup",
            "active",
        );
        let b = script(
            "aaaa0000-0000-4000-8000-000000000001",
            "disk cleanup!",
            "ACTIVE",
        );
        let c = script(
            "cccc0000-0000-4000-8000-000000000003",
            "Disk Cleanup 2",
            "active",
        );
        let d = script("dddd0000-0000-4000-8000-000000000004", "日本語", "active");
        let e = script(
            "eeee0000-0000-4000-8000-000000000005",
            "Disk Cleanup",
            "inactive",
        );
        let forward = assign_tool_names(&[a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]);
        let backward = assign_tool_names(&[e, d, c, b, a]);
        let mut f = forward.clone();
        let mut g = backward;
        f.sort();
        g.sort();
        assert_eq!(f, g);
        let name_of = |id: &str| forward.iter().find(|(i, _)| i == id).unwrap().1.clone();
        assert_eq!(
            name_of("aaaa0000-0000-4000-8000-000000000001"),
            "cw-rmm-script-disk-cleanup"
        );
        // "disk-cleanup-2" is taken by a script's own name, so the duplicate gets -3.
        assert_eq!(
            name_of("bbbb0000-0000-4000-8000-000000000002"),
            "cw-rmm-script-disk-cleanup-3"
        );
        assert_eq!(
            name_of("cccc0000-0000-4000-8000-000000000003"),
            "cw-rmm-script-disk-cleanup-2"
        );
        assert_eq!(
            name_of("dddd0000-0000-4000-8000-000000000004"),
            "cw-rmm-script-script-dddd0000"
        );
        assert_eq!(forward.len(), 4);
        for (_, name) in &forward {
            assert!(name.len() <= MAX_NAME && !catalog::is_static(name));
        }
    }
}
