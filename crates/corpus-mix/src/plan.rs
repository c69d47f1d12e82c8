//! The plan: what each source has, what the recipe asks of it, and what it will give.

use std::collections::BTreeMap;
use std::fmt::Write;

use corpus_core::recipe::MixOptions;
use serde::Serialize;

/// Training rows of one source in `tokenized`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Available {
    pub samples: u64,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// In the recipe and in the data.
    Planned,
    /// In the recipe, but its stage is not part of this build yet.
    NotProduced,
    /// In the data but not in the recipe: taken once.
    NotInRecipe,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    pub source: String,
    pub stage: String,
    pub status: SourceStatus,
    pub available: Available,
    pub variants: u32,
    /// Times each sample is seen (fractions: a seeded share once more).
    pub repeat: f64,
    /// What the recipe asks (a budget), if it gives one.
    pub requested: Option<u64>,
    pub planned: u64,
    pub shortfall: u64,
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub rows: Vec<PlanRow>,
    pub planned: u64,
    pub budget: Option<u64>,
    pub max_repeat: f64,
    pub validation: Available,
}

/// Plan the mix. `available`: training rows per source; `produced`: what this build makes,
/// as stage names (every source of the stage) or `stage:source` (only that source).
pub fn make_plan(
    mix: &MixOptions,
    available: &BTreeMap<String, Available>,
    validation: Available,
    produced: &[&str],
) -> Plan {
    let mut rows = Vec::new();
    for source in &mix.sources {
        let have = available.get(&source.name).copied().unwrap_or_default();
        let mut row = PlanRow {
            source: source.name.clone(),
            stage: source.stage.clone(),
            status: SourceStatus::Planned,
            available: have,
            variants: source.variants,
            repeat: 0.0,
            requested: source.tokens,
            planned: 0,
            shortfall: 0,
            warning: None,
        };
        let stage_sources: Vec<&str> = produced
            .iter()
            .filter_map(|p| p.strip_prefix(&format!("{}:", source.stage)))
            .collect();
        let made = if produced.contains(&source.stage.as_str())
            || stage_sources.contains(&source.name.as_str())
        {
            None
        } else if stage_sources.is_empty() {
            Some(format!(
                "not produced yet: stage {} is not part of this build",
                source.stage
            ))
        } else {
            Some(format!(
                "not produced yet: stage {} makes only {} in this build",
                source.stage,
                stage_sources.join(", ")
            ))
        };
        if let Some(warning) = made {
            row.status = SourceStatus::NotProduced;
            row.shortfall = source.tokens.unwrap_or(0);
            row.warning = Some(warning);
            rows.push(row);
            continue;
        }
        let wanted = match (source.tokens, source.repeat) {
            (Some(tokens), _) if have.tokens == 0 => {
                row.shortfall = tokens;
                row.warning = Some("no data for this source".into());
                None
            }
            (Some(tokens), _) => Some(tokens as f64 / have.tokens as f64),
            (None, Some(repeat)) => Some(repeat),
            (None, None) => None,
        };
        if let Some(mut repeat) = wanted {
            if repeat > mix.max_repeat {
                row.warning = Some(format!(
                    "needs {repeat:.2} repeats, more than max_repeat {}",
                    mix.max_repeat
                ));
                repeat = mix.max_repeat;
            }
            row.repeat = repeat;
            row.planned = (have.tokens as f64 * repeat).round() as u64;
            if let Some(tokens) = source.tokens {
                row.shortfall = tokens.saturating_sub(row.planned);
            }
        }
        rows.push(row);
    }
    for (name, have) in available {
        if mix.sources.iter().any(|s| &s.name == name) {
            continue;
        }
        rows.push(PlanRow {
            source: name.clone(),
            stage: "-".into(),
            status: SourceStatus::NotInRecipe,
            available: *have,
            variants: 1,
            repeat: 1.0,
            requested: None,
            planned: have.tokens,
            shortfall: 0,
            warning: Some("not in [mix] sources: taken once".into()),
        });
    }
    let planned = rows.iter().map(|r| r.planned).sum();
    Plan {
        rows,
        planned,
        budget: mix.total_tokens,
        max_repeat: mix.max_repeat,
        validation,
    }
}

impl Plan {
    /// The repeat factor of a source (0 for a source the plan does not take).
    pub fn repeat_of(&self, source: &str) -> f64 {
        self.rows
            .iter()
            .find(|r| r.source == source)
            .map(|r| r.repeat)
            .unwrap_or(0.0)
    }

    /// Tokens missing against the sources' budgets and the total budget.
    pub fn shortfall(&self) -> u64 {
        let sources: u64 = self.rows.iter().map(|r| r.shortfall).sum();
        let total = self
            .budget
            .map(|b| b.saturating_sub(self.planned))
            .unwrap_or(0);
        sources.max(total)
    }

    /// The plan as a text table, then its totals and warnings.
    pub fn render(&self) -> String {
        let header = [
            "source",
            "stage",
            "available",
            "samples",
            "variants",
            "repeat",
            "planned",
            "share",
            "shortfall",
        ];
        let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for row in &self.rows {
            let share = if self.planned > 0 {
                format!("{:.1}%", 100.0 * row.planned as f64 / self.planned as f64)
            } else {
                "-".into()
            };
            table.push(vec![
                row.source.clone(),
                row.stage.clone(),
                match row.status {
                    SourceStatus::NotProduced => "not produced".into(),
                    _ => readable_count(row.available.tokens),
                },
                row.available.samples.to_string(),
                row.variants.to_string(),
                format!("{:.2}", row.repeat),
                readable_count(row.planned),
                share,
                if row.shortfall > 0 {
                    readable_count(row.shortfall)
                } else {
                    "-".into()
                },
            ]);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|c| {
                table
                    .iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for (i, row) in table.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if c < 2 {
                        format!("{cell:<w$}", w = widths[c])
                    } else {
                        format!("{cell:>w$}", w = widths[c])
                    }
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
            if i == 0 {
                let _ = writeln!(out, "{}", "-".repeat(widths.iter().sum::<usize>() + 2 * 8));
            }
        }
        let _ = write!(
            out,
            "planned {} training tokens",
            readable_count(self.planned)
        );
        if let Some(budget) = self.budget {
            let _ = write!(out, " of a {} budget", readable_count(budget));
        }
        let _ = writeln!(
            out,
            "; validation {} tokens in {} samples (never repeated); max_repeat {}",
            readable_count(self.validation.tokens),
            self.validation.samples,
            self.max_repeat
        );
        for row in &self.rows {
            if let Some(warning) = &row.warning {
                let _ = writeln!(out, "warning: {}: {warning}", row.source);
            }
        }
        let shortfall = self.shortfall();
        if shortfall > 0 {
            let _ = writeln!(
                out,
                "shortfall: {} tokens the data cannot give under max_repeat {}",
                readable_count(shortfall),
                self.max_repeat
            );
        }
        out
    }
}

/// A count, readable: 1234 → "1234", 5.2e6 → "5.20M", 150e9 → "150.00B".
pub fn readable_count(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.2}B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.2}M", n as f64 / 1e6),
        n => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corpus_core::recipe::MixSource;

    fn source(name: &str, tokens: Option<u64>, repeat: Option<f64>, stage: &str) -> MixSource {
        MixSource {
            name: name.into(),
            tokens,
            repeat,
            variants: 1,
            stage: stage.into(),
        }
    }

    #[test]
    fn counts_read_as_people_write_them() {
        assert_eq!(readable_count(999), "999");
        assert_eq!(readable_count(5_200_000), "5.20M");
        assert_eq!(readable_count(150_000_000_000), "150.00B");
    }

    #[test]
    fn budgets_become_capped_repeats_with_shortfalls() {
        let mix = MixOptions {
            total_tokens: Some(1000),
            max_repeat: 4.0,
            allow_shortfall: false,
            sources: vec![
                source("agentless", Some(300), None, "format"),
                source("packs", Some(500), None, "format"),
                source("synthetic", Some(200), None, "synthesize"),
            ],
        };
        let mut available = BTreeMap::new();
        available.insert(
            "agentless".to_string(),
            Available {
                samples: 10,
                tokens: 100,
            },
        );
        available.insert(
            "packs".to_string(),
            Available {
                samples: 5,
                tokens: 50,
            },
        );
        available.insert(
            "extra".to_string(),
            Available {
                samples: 1,
                tokens: 7,
            },
        );
        let plan = make_plan(&mix, &available, Available::default(), &["format"]);
        assert_eq!(plan.repeat_of("agentless"), 3.0);
        assert_eq!(plan.rows[0].planned, 300);
        assert_eq!(plan.rows[0].shortfall, 0);
        assert_eq!(plan.repeat_of("packs"), 4.0);
        assert_eq!(plan.rows[1].planned, 200);
        assert_eq!(plan.rows[1].shortfall, 300);
        assert_eq!(plan.rows[2].status, SourceStatus::NotProduced);
        assert_eq!(plan.rows[2].shortfall, 200);
        assert_eq!(plan.rows[3].status, SourceStatus::NotInRecipe);
        assert_eq!(plan.planned, 507);
        assert_eq!(plan.shortfall(), 500);
        let text = plan.render();
        assert!(text.contains("not produced"), "{text}");
        assert!(text.contains("more than max_repeat"), "{text}");
        assert!(text.contains("shortfall: 500"), "{text}");
    }

    #[test]
    fn repeat_factors_plan_without_a_budget() {
        let mix = MixOptions {
            sources: vec![source("a", None, Some(1.5), "format")],
            ..Default::default()
        };
        let mut available = BTreeMap::new();
        available.insert(
            "a".to_string(),
            Available {
                samples: 2,
                tokens: 10,
            },
        );
        let plan = make_plan(&mix, &available, Available::default(), &["format"]);
        assert_eq!(plan.planned, 15);
        assert_eq!(plan.shortfall(), 0);
    }
}
