//! The canonical record of one trajectory (the `trajectories` table holds it as JSON next to
//! its key columns); renderers turn it into text.

use serde::{Deserialize, Serialize};

/// Where a thought's text came from: the leak rules differ (human text in the edit phase is
/// exempt; template text never may use what only the PR's added lines contain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThoughtSource {
    Template,
    CommitMessage,
    Model,
}

/// One tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub tool: String,
    /// Named arguments in the tool's own order.
    pub arguments: Vec<(String, String)>,
}

impl Action {
    pub fn new(tool: &str, arguments: &[(&str, &str)]) -> Self {
        Self {
            tool: tool.to_string(),
            arguments: arguments
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn argument(&self, name: &str) -> Option<&str> {
        self.arguments
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub thought: String,
    pub thought_source: ThoughtSource,
    pub action: Action,
    /// What the emulator printed (empty for `submit`, which ends the trajectory).
    pub observation: String,
    /// `emulator` for every observation this engine writes.
    pub observation_source: String,
    /// Exploration (before the first edit) or edit.
    pub phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Explore,
    Edit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    pub repo: String,
    pub pr_number: i64,
    pub base_sha: String,
    pub variant: u32,
    pub engine: String,
    pub seed: u64,
    pub tool_family: String,
    /// The task as the agent gets it.
    pub problem: String,
    pub steps: Vec<Step>,
    /// Files the exploration named as the place to change, the PR's changed files, and the
    /// distractors it opened and rejected.
    pub named_files: Vec<String>,
    pub gold_files: Vec<String>,
    pub distractor_files: Vec<String>,
    /// The PR's diff: what the replayed edits produce.
    pub final_patch: String,
}
