//! The default mode of a script tool, from words in its name and description.
//!
//! Decisions (in this order):
//! 1. `wipe`, `format` with a storage word (disk, drive, volume, partition) anywhere, or an
//!    erasing verb right next to a storage word ("Erase the disk", "Festplatte löschen"):
//!    **never**. These destroy data with no undo, so they should not be one click away; an
//!    operator who really wants them sets an override by exact name (a pattern cannot loosen
//!    a never). `format` alone ("report in CSV format") is only a destructive verb
//!    (approval), not a never.
//! 2. Any destructive verb ([`DESTRUCTIVE_VERBS`]) anywhere: **approval**.
//! 3. Any verb that changes a device ([`MUTATING_VERBS`]) anywhere: **approval**.
//! 4. A read-only verb ([`READ_ONLY_VERBS`]) in the tool's *name*: **auto**. The name, not
//!    the description, because the plugin's description of every script tool is boilerplate
//!    that mentions other tools ("returns taskId for cw-rmm-get-task-results").
//! 5. Anything else: **approval** (unknown is not safe).
//!
//! Matching is by whole word: text is split at every non-alphanumeric character and at
//! camelCase boundaries, lowercased, and a word matches a verb or its inflections (`-s`,
//! `-es`, `-d`, `-ed`, `-ing`, `-er`, `-ers`, with a dropped final `e` or a doubled final
//! consonant), so `reboots`, `rebooting`, `Uninstaller` and `wiping` match and `reformat`
//! or `preset` do not. Verbs that change a device match without `-ed`/`-er`: "get installed
//! software" reads.
//!
//! Text is folded to ASCII first (é -> e, ß -> ss), so accents never decide, and the common
//! verbs of French, German and Spanish script names count as their English equivalents
//! ("Réinitialiser" is a reset, "Prüfen" a check, "Formatear" a format): see [`lexicon`].

mod lexicon;

use super::Mode;

/// Destroy data with no undo: never, by default.
pub const NEVER_VERBS: &[&str] = &["wipe"];
/// `format` is never only in a storage context.
pub const STORAGE_WORDS: &[&str] = &[
    "disk",
    "disks",
    "drive",
    "drives",
    "volume",
    "volumes",
    "partition",
    "partitions",
];

/// Remove, stop or reset something: approval.
pub const DESTRUCTIVE_VERBS: &[&str] = &[
    "delete",
    "remove",
    "uninstall",
    "wipe",
    "format",
    "reboot",
    "restart",
    "shutdown",
    "shut",
    "poweroff",
    "disable",
    "reset",
    "erase",
    "purge",
    "kill",
    "terminate",
    "stop",
    "destroy",
    "drop",
    "clear",
    "clean",
    "cleanup",
    "overwrite",
    "revoke",
    "lock",
    "block",
    "encrypt",
    "decrypt",
    "reimage",
    "rollback",
    "unregister",
    "unjoin",
    "deactivate",
];

/// Change something without destroying it: still approval.
///
/// `schedule` is deliberately not a verb here: the plugin's description of every script tool
/// says when it is "scheduled".
pub const MUTATING_VERBS: &[&str] = &[
    "install",
    "update",
    "upgrade",
    "downgrade",
    "patch",
    "set",
    "configure",
    "enable",
    "modify",
    "deploy",
    "create",
    "add",
    "rename",
    "move",
    "write",
    "push",
    "apply",
    "repair",
    "fix",
    "start",
    "register",
    "join",
    "activate",
    "map",
    "unmap",
    "grant",
    "assign",
    "edit",
    "replace",
    "flush",
    "kick",
    "logoff",
    "logout",
    "signout",
];

/// Inflections that count for [`MUTATING_VERBS`]: not `-ed` or `-er`, because "installed
/// software" and "updater status" describe things rather than change them.
const MUTATING_SUFFIXES: &[&str] = &["", "s", "es", "ing"];

/// Only look: auto, when in the name and nothing above matched.
pub const READ_ONLY_VERBS: &[&str] = &[
    "get",
    "list",
    "check",
    "collect",
    "report",
    "show",
    "scan",
    "test",
    "inventory",
    "audit",
    "query",
    "view",
    "find",
    "detect",
    "verify",
    "display",
    "count",
    "read",
];

/// The classifier's verdict and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The default mode for the script tool.
    pub mode: Mode,
    /// e.g. "classifier: destructive verb `uninstall`".
    pub rule: String,
}

/// Classifies a script tool from its (bare or namespaced) name and its description.
pub fn classify(name: &str, description: &str) -> Classification {
    let name_words = words(name);
    let all: Vec<String> = name_words
        .iter()
        .cloned()
        .chain(words(description))
        .collect();
    let verdict = |mode, rule: String| Classification { mode, rule };

    if let Some(w) = first_match(&all, NEVER_VERBS) {
        return verdict(
            Mode::Never,
            format!("classifier: data-destroying verb `{w}`"),
        );
    }
    if let Some((w, s)) = wiped_storage(&all) {
        return verdict(
            Mode::Never,
            format!("classifier: data-destroying verb `{w}` on `{s}`"),
        );
    }
    if let Some(w) = first_match(&all, &["format"]) {
        if let Some(s) = all.iter().find(|x| is_storage(x)) {
            return verdict(
                Mode::Never,
                format!("classifier: data-destroying verb `{w}` with `{s}`"),
            );
        }
    }
    if let Some(w) = first_match(&all, DESTRUCTIVE_VERBS) {
        return verdict(
            Mode::Approval,
            format!("classifier: destructive verb `{w}`"),
        );
    }
    if let Some(w) = all.iter().find(|w| {
        MUTATING_VERBS
            .iter()
            .any(|v| is_verb(w, v, MUTATING_SUFFIXES))
    }) {
        return verdict(
            Mode::Approval,
            format!("classifier: verb `{w}` changes devices"),
        );
    }
    if let Some(w) = first_match(&name_words, READ_ONLY_VERBS) {
        return verdict(Mode::Auto, format!("classifier: read-only verb `{w}`"));
    }
    verdict(
        Mode::Approval,
        "classifier: no known verb, unknown effect".to_string(),
    )
}

/// The first word (as written, lowercased and folded) that is one of `verbs`.
fn first_match<'a>(words: &'a [String], verbs: &[&str]) -> Option<&'a str> {
    words
        .iter()
        .find(|w| verbs.iter().any(|v| is_verb(w, v, ALL_SUFFIXES)))
        .map(String::as_str)
}

const ALL_SUFFIXES: &[&str] = &["", "s", "es", "d", "ed", "ing", "er", "ers"];

/// Whether `word` is `verb`, one of its inflections in `suffixes`, or a foreign form of it.
fn is_verb(word: &str, verb: &str, suffixes: &[&str]) -> bool {
    inflects_with(word, verb, suffixes) || lexicon::english(word) == Some(verb)
}

/// An erasing verb with a storage word right before or after it (articles skipped): a wipe,
/// as `(verb, storage word)`. Adjacency, not "anywhere", because "Löschen temporärer Dateien
/// auf dem Laufwerk" deletes files, not the drive.
fn wiped_storage(words: &[String]) -> Option<(&str, &str)> {
    let content: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !lexicon::ARTICLES.contains(w))
        .collect();
    content.windows(2).find_map(|pair| {
        let erases = |w: &str| lexicon::WIPE_VERBS.iter().any(|v| inflects(w, v));
        match (pair[0], pair[1]) {
            (v, s) | (s, v) if erases(v) && is_storage(s) => Some((v, s)),
            _ => None,
        }
    })
}

fn is_storage(word: &str) -> bool {
    STORAGE_WORDS.contains(&word) || lexicon::STORAGE_WORDS.contains(&word)
}

/// Whether `word` is `verb` or one of its regular (English) inflections.
fn inflects(word: &str, verb: &str) -> bool {
    inflects_with(word, verb, ALL_SUFFIXES)
}

fn inflects_with(word: &str, verb: &str, suffixes: &[&str]) -> bool {
    if word
        .strip_prefix(verb)
        .is_some_and(|rest| suffixes.contains(&rest))
    {
        return true;
    }
    // wipe -> wiping, wiper: the final `e` is dropped.
    if let Some(stem) = verb.strip_suffix('e') {
        if word
            .strip_prefix(stem)
            .is_some_and(|rest| !rest.is_empty() && suffixes.contains(&rest))
        {
            return true;
        }
    }
    // format -> formatted, formatting; stop -> stopped: the final consonant doubles.
    let Some(last) = verb.chars().last().filter(|c| !"aeiouy".contains(*c)) else {
        return false;
    };
    word.strip_prefix(verb)
        .and_then(|rest| rest.strip_prefix(last))
        .is_some_and(|rest| ["ed", "ing", "er", "ers"].contains(&rest) && suffixes.contains(&rest))
}

/// Lowercase words: split at non-alphanumerics and camelCase boundaries.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_numeric();
        for l in c.to_lowercase() {
            match lexicon::fold(l) {
                Some(ascii) => cur.push_str(ascii),
                None => cur.push(l),
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plugin's boilerplate description of every script tool.
    fn boilerplate(script: &str, extra: &str) -> String {
        format!(
            "Run the ConnectWise RMM shell script \"{script}\" on endpoints (targets) or every \
             endpoint of a company (companyId + targetType COMPANY).{extra} Scheduled at the next \
             agent check-in unless schedule says otherwise; returns taskId for \
             cw-rmm-get-task-results. The host's policy decides whether a run waits for approval."
        )
    }

    fn mode(name: &str, description: &str) -> Mode {
        classify(name, description).mode
    }

    #[test]
    fn splits_words_at_boundaries_and_camel_case() {
        assert_eq!(
            words("cw-rmm-script-DeleteTempFiles v2_x"),
            ["cw", "rmm", "script", "delete", "temp", "files", "v2", "x"]
        );
    }

    #[test]
    fn inflections_match_and_other_words_do_not() {
        for w in ["reboot", "reboots", "rebooting", "rebooted"] {
            assert!(inflects(w, "reboot"), "{w}");
        }
        for w in ["wipe", "wipes", "wiping", "wiped", "wiper"] {
            assert!(inflects(w, "wipe"), "{w}");
        }
        assert!(inflects("formatting", "format"));
        assert!(inflects("stopped", "stop"));
        assert!(inflects("uninstaller", "uninstall"));
        assert!(!inflects("preset", "set"));
        assert!(!inflects("settings", "set"));
        assert!(!inflects("reformat", "format"));
        assert!(!inflects("listen", "list"));
        assert!(!inflects("target", "get"));
    }

    #[test]
    fn destructive_verbs_need_approval_with_the_verb_named() {
        let c = classify(
            "connectwise_rmm:cw-rmm-script-uninstall-agent",
            &boilerplate("Uninstall Agent", ""),
        );
        assert_eq!(c.mode, Mode::Approval);
        assert_eq!(c.rule, "classifier: destructive verb `uninstall`");
        for name in [
            "cw-rmm-script-delete-temp-files",
            "cw-rmm-script-remove-user",
            "cw-rmm-script-reboot-now",
            "cw-rmm-script-shutdown",
            "cw-rmm-script-disable-usb",
            "cw-rmm-script-reset-password",
        ] {
            assert_eq!(mode(name, &boilerplate("x", "")), Mode::Approval, "{name}");
        }
    }

    #[test]
    fn a_destructive_verb_in_the_description_beats_a_read_only_name() {
        let c = classify(
            "cw-rmm-script-check-disk",
            &boilerplate("Check disk", " Checks the disk and reboots if needed."),
        );
        assert_eq!(c.mode, Mode::Approval);
        assert_eq!(c.rule, "classifier: destructive verb `reboots`");
    }

    #[test]
    fn wipe_and_disk_formatting_are_never() {
        let c = classify("cw-rmm-script-wipe-laptop", &boilerplate("Wipe laptop", ""));
        assert_eq!(c.mode, Mode::Never);
        assert_eq!(c.rule, "classifier: data-destroying verb `wipe`");
        let c = classify("cw-rmm-script-format-d", "Formats the D: drive");
        assert_eq!(c.mode, Mode::Never);
        assert_eq!(
            c.rule,
            "classifier: data-destroying verb `format` with `drive`"
        );
        // `format` without a storage word is only destructive.
        assert_eq!(
            mode(
                "cw-rmm-script-export-report",
                "Writes the report in CSV format"
            ),
            Mode::Approval
        );
    }

    #[test]
    fn read_only_names_are_auto() {
        for name in [
            "connectwise_rmm:cw-rmm-script-get-installed-software",
            "cw-rmm-script-list-local-admins",
            "cw-rmm-script-collect-event-logs",
            "cw-rmm-script-check-bitlocker-status",
            "cw-rmm-script-inventory",
            "cw-rmm-script-scan-open-ports",
        ] {
            let c = classify(name, &boilerplate("x", " Prints what it finds."));
            assert_eq!(c.mode, Mode::Auto, "{name}: {}", c.rule);
            assert!(c.rule.starts_with("classifier: read-only verb"));
        }
    }

    #[test]
    fn read_only_words_only_in_the_boilerplate_do_not_make_auto() {
        // The boilerplate says "get" and "check-in": neither is in the name.
        let c = classify("cw-rmm-script-defrag", &boilerplate("Defrag", ""));
        assert_eq!(c.mode, Mode::Approval);
        assert_eq!(c.rule, "classifier: no known verb, unknown effect");
    }

    #[test]
    fn mutating_verbs_need_approval() {
        let c = classify("cw-rmm-script-install-chrome", &boilerplate("x", ""));
        assert_eq!(c.mode, Mode::Approval);
        assert_eq!(c.rule, "classifier: verb `install` changes devices");
        assert_eq!(mode("cw-rmm-script-get-and-update", ""), Mode::Approval);
    }

    #[test]
    fn french_german_and_spanish_verbs_follow_their_english_rule() {
        let c = classify(
            "cw-rmm-script-reinitialiser-le-spouleur-d-impression",
            &boilerplate("Réinitialiser le spouleur d'impression", ""),
        );
        assert_eq!(c.mode, Mode::Approval);
        assert_eq!(c.rule, "classifier: destructive verb `reinitialiser`");
        for (name, expected) in [
            ("Vérifier l'espace disque", Mode::Auto),
            ("VERIFIER L'ESPACE DISQUE", Mode::Auto),
            ("Speicherplatz prüfen", Mode::Auto),
            ("Speicherplatz pruefen", Mode::Auto),
            ("Comprobar espacio en disco", Mode::Auto),
            ("Supprimer les fichiers temporaires", Mode::Approval),
            ("Temporäre Dateien löschen", Mode::Approval),
            ("Eliminar archivos temporales", Mode::Approval),
            ("Dienst zurücksetzen", Mode::Approval),
            ("Formater le disque D", Mode::Never),
            ("Laufwerk D: formatieren", Mode::Never),
            ("Formatear la unidad", Mode::Never),
            ("Effacer le disque", Mode::Never),
            ("Festplatte löschen", Mode::Never),
            ("Borrar el disco", Mode::Never),
            ("Erase the disk", Mode::Never),
        ] {
            let c = classify(name, "");
            assert_eq!(c.mode, expected, "{name}: {}", c.rule);
        }
        assert_eq!(
            classify("Festplatte löschen", "").rule,
            "classifier: data-destroying verb `loschen` on `festplatte`"
        );
        assert_eq!(
            classify("Prüfen", "").rule,
            "classifier: read-only verb `prufen`"
        );
    }

    #[test]
    fn erasing_near_but_not_on_a_storage_word_is_only_destructive() {
        let c = classify("Temporäre Dateien löschen auf dem Laufwerk C", "");
        assert_eq!(c.mode, Mode::Approval, "{}", c.rule);
        assert_eq!(c.rule, "classifier: destructive verb `loschen`");
        // A foreign word that only looks like a verb does not count.
        assert_eq!(mode("cw-rmm-script-get-installer-logs", ""), Mode::Auto);
    }
}
