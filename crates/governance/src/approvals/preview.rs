//! [`Preview`]: what a held call would do, in words, as the plugin described it before anyone
//! decided. It is untrusted plugin output: sizes are capped and control characters replaced
//! when it is made, and it is only ever shown, never used to decide what runs.

/// Most characters of the one-line summary.
pub const MAX_SUMMARY_CHARS: usize = 300;
/// Most facts kept; the rest are dropped (the last fact then says how many).
pub const MAX_FACTS: usize = 30;
/// Most characters of a fact's label.
pub const MAX_LABEL_CHARS: usize = 40;
/// Most characters of a fact's value.
pub const MAX_VALUE_CHARS: usize = 300;

/// One fact a person checks before approving, e.g. `target`: `CONTOSO-LT-MARIA, company
/// Contoso, site Sydney`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviewFact {
    /// A short name such as `script`, `target`, `schedule`, `board`.
    pub label: String,
    /// What it is.
    pub value: String,
}

/// What a call would do: one line and the facts behind it. Serialized as
/// `{"summary": "...", "facts": [{"label": "...", "value": "..."}]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Preview {
    /// One line.
    pub summary: String,
    /// In the order a person reads them.
    pub facts: Vec<PreviewFact>,
}

/// `text` on one line of at most `max` characters: every control character (newlines,
/// escapes, bidi and other format controls included) becomes a space, and a clipped text ends
/// in `…`.
fn clean(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if is_unsafe(c) { ' ' } else { c })
        .take(max + 1)
        .collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
    }
    out.trim().to_string()
}

/// Characters that could move a cursor, recolour a terminal or reorder text on screen.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

impl Preview {
    /// A preview from a plugin's words, made safe to store and show: one-line texts, sizes
    /// capped (see the `MAX_*` constants), facts without a label or value dropped.
    pub fn sanitized(summary: &str, facts: impl IntoIterator<Item = (String, String)>) -> Preview {
        let mut kept = Vec::new();
        let mut dropped = 0usize;
        for (label, value) in facts {
            let fact = PreviewFact {
                label: clean(&label, MAX_LABEL_CHARS),
                value: clean(&value, MAX_VALUE_CHARS),
            };
            if fact.label.is_empty() && fact.value.is_empty() {
                continue;
            }
            if kept.len() < MAX_FACTS {
                kept.push(fact);
            } else {
                dropped += 1;
            }
        }
        if dropped > 0 {
            kept.pop();
            kept.push(PreviewFact {
                label: "more".to_string(),
                value: format!("{} more facts not shown", dropped + 1),
            });
        }
        Preview {
            summary: clean(summary, MAX_SUMMARY_CHARS),
            facts: kept,
        }
    }

    /// How a person reads it: the summary, then one `label: value` line per fact (escape
    /// them for the medium anyway: a preview read back from disk was not necessarily made by
    /// [`Preview::sanitized`]).
    pub fn lines(&self) -> Vec<String> {
        std::iter::once(self.summary.clone())
            .chain(
                self.facts
                    .iter()
                    .map(|f| format!("{}: {}", f.label, f.value)),
            )
            .collect()
    }

    /// What changed from `before` to `self`, one line per difference (`target: was X, now
    /// Y`); empty when they are the same.
    pub fn changes_since(&self, before: &Preview) -> Vec<String> {
        let mut changes = Vec::new();
        let longest = self.facts.len().max(before.facts.len());
        for i in 0..longest {
            match (before.facts.get(i), self.facts.get(i)) {
                (Some(b), Some(n)) if b == n => {}
                (Some(b), Some(n)) if b.label == n.label => {
                    changes.push(format!("{}: was {}, now {}", n.label, b.value, n.value))
                }
                (Some(b), Some(n)) => changes.push(format!(
                    "{}: {} is now {}: {}",
                    b.label, b.value, n.label, n.value
                )),
                (Some(b), None) => changes.push(format!("{}: {} is gone", b.label, b.value)),
                (None, Some(n)) => changes.push(format!("{}: {} is new", n.label, n.value)),
                (None, None) => {}
            }
        }
        if changes.is_empty() && self.summary != before.summary {
            changes.push(format!(
                "summary: was {}, now {}",
                before.summary, self.summary
            ));
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(l, v)| (l.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn control_characters_and_bidi_become_spaces_and_sizes_are_capped() {
        let p = Preview::sanitized(
            "Run \u{1b}[2J\"x\"\non\u{202e}evil",
            facts(&[("tar\rget", "a\u{7}b"), ("", "")]),
        );
        assert_eq!(p.summary, "Run  [2J\"x\" on evil");
        assert_eq!(p.facts.len(), 1);
        assert_eq!(p.facts[0].label, "tar get");
        assert_eq!(p.facts[0].value, "a b");
        let long = Preview::sanitized(
            &"s".repeat(1000),
            facts(&[(&"l".repeat(99), &"v".repeat(999))]),
        );
        assert_eq!(long.summary.chars().count(), MAX_SUMMARY_CHARS);
        assert!(long.summary.ends_with('…'));
        assert_eq!(long.facts[0].label.chars().count(), MAX_LABEL_CHARS);
        assert_eq!(long.facts[0].value.chars().count(), MAX_VALUE_CHARS);
    }

    #[test]
    fn too_many_facts_end_in_a_count() {
        let many: Vec<(String, String)> = (0..100)
            .map(|i| ("target".into(), format!("d{i}")))
            .collect();
        let p = Preview::sanitized("s", many);
        assert_eq!(p.facts.len(), MAX_FACTS);
        assert_eq!(p.facts[MAX_FACTS - 1].value, "71 more facts not shown");
    }

    #[test]
    fn changes_name_the_fact_that_moved() {
        let before = Preview::sanitized(
            "Run on D (Contoso)",
            facts(&[("script", "Disk"), ("target", "D, company Contoso")]),
        );
        let after = Preview::sanitized(
            "Run on D (Fabrikam)",
            facts(&[("script", "Disk"), ("target", "D, company Fabrikam")]),
        );
        assert_eq!(
            after.changes_since(&before),
            vec!["target: was D, company Contoso, now D, company Fabrikam"]
        );
        assert!(before.changes_since(&before).is_empty());
        let json = serde_json::to_value(&before).unwrap();
        assert_eq!(json["summary"], "Run on D (Contoso)");
        assert_eq!(json["facts"][1]["label"], "target");
        assert_eq!(json["facts"][1]["value"], "D, company Contoso");
    }
}
