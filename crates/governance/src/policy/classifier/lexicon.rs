//! The classifier's vocabulary beyond English: accent folding and the common verbs of French,
//! German and Spanish script names, each mapped to the English verb whose rule it follows.
//!
//! Words arrive lowercased and folded ("Réinitialiser" -> `reinitialiser`, "Prüfen" ->
//! `prufen`), so a name matches whether or not its author typed the accents. Forms are listed
//! whole (infinitive, noun, common imperative) rather than stemmed: a stem such as `pruf`
//! would also catch unrelated words, and a missed form only falls back to approval.

/// U+00C0..=U+017F (Latin-1 letters and Latin Extended-A) folded to lowercase ASCII, one byte
/// per code point. Digits stand for two-letter foldings (see [`fold`]); `_` is no letter.
const LATIN: &str = "aaaaaa1ceeeeiiiidnooooo_ouuuuy23aaaaaa1ceeeeiiiidnooooo_ouuuuy2y\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii44jjkkkllllllllllnnnnnnnnnoooooo55rrrrrrssssssss\
ttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// The ASCII letters of a Latin letter with diacritics (é -> e, ß -> ss), or `None` for a
/// character outside the table, which is kept as it is.
pub fn fold(c: char) -> Option<&'static str> {
    let i = (c as usize).wrapping_sub(0xC0);
    Some(match LATIN.get(i..i + 1)? {
        "1" => "ae",
        "2" => "th",
        "3" => "ss",
        "4" => "ij",
        "5" => "oe",
        "_" => return None,
        letter => letter,
    })
}

/// Foreign forms (folded) of the English verbs the classifier knows. Only verbs with no English
/// look-alike: French "installer" is left out because "Get Installer Logs" reads.
const FOREIGN: &[(&str, &[&str])] = &[
    // Read-only.
    (
        "check",
        &[
            "verifier",
            "verifiez",
            "verification",
            "controler",
            "controle",
            "prufen",
            "pruefen",
            "prufung",
            "pruefung",
            "uberprufen",
            "ueberpruefen",
            "uberprufung",
            "ueberpruefung",
            "kontrollieren",
            "comprobar",
            "comprobacion",
            "verificar",
            "verificacion",
            "revisar",
        ],
    ),
    ("list", &["lister", "auflisten", "listar"]),
    ("show", &["afficher", "anzeigen", "mostrar"]),
    ("get", &["obtenir", "abrufen", "ermitteln", "obtener"]),
    ("collect", &["collecter", "sammeln", "recopilar"]),
    // Destructive.
    (
        "reset",
        &[
            "reinitialiser",
            "reinitialisation",
            "zurucksetzen",
            "zuruecksetzen",
            "restablecer",
        ],
    ),
    (
        "restart",
        &[
            "redemarrer",
            "redemarrage",
            "neustarten",
            "neustart",
            "reiniciar",
            "reinicio",
        ],
    ),
    (
        "delete",
        &[
            "supprimer",
            "suppression",
            "loschen",
            "loeschen",
            "loschung",
            "eliminar",
            "eliminacion",
        ],
    ),
    ("remove", &["entfernen"]),
    ("erase", &["effacer", "effacement", "borrar"]),
    (
        "format",
        &[
            "formater",
            "formatage",
            "formatieren",
            "formatierung",
            "formatear",
            "formateo",
        ],
    ),
    ("stop", &["arreter", "stoppen", "beenden", "detener"]),
    (
        "uninstall",
        &["desinstaller", "deinstallieren", "desinstalar"],
    ),
    (
        "disable",
        &["desactiver", "deaktivieren", "deshabilitar", "desactivar"],
    ),
    (
        "clean",
        &["nettoyer", "nettoyage", "bereinigen", "limpiar", "limpieza"],
    ),
    // Changing.
    ("install", &["installieren", "instalar"]),
    ("update", &["aktualisieren", "actualizar"]),
    ("enable", &["activer", "aktivieren", "habilitar", "activar"]),
];

/// Verbs that, right next to a storage word ("Effacer le disque", "Festplatte löschen"),
/// mean wiping it: the English `erase` and the foreign forms that say it plainly.
pub const WIPE_VERBS: &[&str] = &["erase", "effacer", "loschen", "loeschen", "borrar"];

/// Storage words in French, German and Spanish (folded), next to the English ones.
pub const STORAGE_WORDS: &[&str] = &[
    "disque",
    "disques",
    "lecteur",
    "lecteurs",
    "festplatte",
    "festplatten",
    "laufwerk",
    "laufwerke",
    "datentrager",
    "datentraeger",
    "partitionen",
    "disco",
    "discos",
    "unidad",
    "unidades",
    "particion",
    "particiones",
    "volumen",
    "volumenes",
];

/// Words skipped between a wipe verb and its storage word.
pub const ARTICLES: &[&str] = &[
    "the", "a", "an", "le", "la", "les", "l", "un", "une", "du", "de", "des", "der", "die", "das",
    "den", "dem", "ein", "eine", "einen", "el", "los", "las", "del", "una",
];

/// The English verb a foreign (folded) word stands for.
pub fn english(word: &str) -> Option<&'static str> {
    FOREIGN
        .iter()
        .find(|(_, forms)| forms.contains(&word))
        .map(|(verb, _)| *verb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_latin_letters_and_keeps_the_rest() {
        let folded: String = "ÉéßÆœÞĲŁźſ".chars().map(|c| fold(c).unwrap()).collect();
        assert_eq!(folded, "eessaeoethijlzs");
        assert_eq!(fold('×'), None);
        assert_eq!(fold('a'), None);
        assert_eq!(fold('日'), None);
        assert_eq!(LATIN.len(), 0x180 - 0xC0);
    }

    #[test]
    fn every_foreign_form_is_folded_lowercase_and_unique() {
        let forms: Vec<&str> = FOREIGN
            .iter()
            .flat_map(|(_, f)| f.iter().copied())
            .collect();
        for form in &forms {
            assert!(form.bytes().all(|b| b.is_ascii_lowercase()), "{form}");
            assert_eq!(forms.iter().filter(|f| *f == form).count(), 1, "{form}");
        }
        assert_eq!(english("reinitialiser"), Some("reset"));
        assert_eq!(english("disque"), None);
    }
}
