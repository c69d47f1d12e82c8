//! An external record as a sample: chat turns in Qwen's ChatML (or the source's template for
//! one turn); the prompt is every turn before the first assistant turn, the response the rest.
//! Plain text is all response.

use corpus_core::drop_reason::DropReason;
use minijinja::Environment;

use super::read::{Content, Turn};

pub const CHATML_TURN: &str = "<|im_start|>{{ role }}\n{{ content }}<|im_end|>\n";
const ROLES: &[&str] = &["system", "user", "assistant", "tool"];

pub struct Renderer {
    env: Environment<'static>,
}

/// Why a record is not a sample (a drop reason and its detail).
pub type Refusal = (DropReason, String);

impl Renderer {
    pub fn new(template: &str) -> Result<Self, String> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // A turn ends with its newline; minijinja would drop it.
        env.set_keep_trailing_newline(true);
        env.add_template_owned("turn", template.to_string())
            .map_err(|e| format!("turn template: {e}"))?;
        Ok(Self { env })
    }

    fn turn(&self, turn: &Turn) -> Result<String, Refusal> {
        let template = self
            .env
            .get_template("turn")
            .map_err(|e| (DropReason::TemplateError, e.to_string()))?;
        template
            .render(minijinja::context! { role => &turn.role, content => &turn.content })
            .map_err(|e| (DropReason::TemplateError, e.to_string()))
    }

    /// (prompt, response), or why not. `added_tokens`: strings content must not hold.
    pub fn render(
        &self,
        content: &Content,
        added_tokens: &[String],
    ) -> Result<(String, String), Refusal> {
        let check = |text: &str| -> Result<(), Refusal> {
            match added_tokens.iter().find(|t| text.contains(t.as_str())) {
                Some(token) => Err((DropReason::SpecialTokenInContent, format!("holds {token}"))),
                None => Ok(()),
            }
        };
        match content {
            Content::Text(text) => {
                if text.trim().is_empty() {
                    return Err((DropReason::Empty, "the text is empty".into()));
                }
                check(text)?;
                Ok((String::new(), text.clone()))
            }
            Content::Chat(turns) => {
                for (i, turn) in turns.iter().enumerate() {
                    if !ROLES.contains(&turn.role.as_str()) {
                        return Err((
                            DropReason::UnknownRole,
                            format!(
                                "turn {i} has role `{}` (known: {})",
                                turn.role,
                                ROLES.join(", ")
                            ),
                        ));
                    }
                    check(&turn.content)?;
                }
                let first = turns.iter().position(|t| t.role == "assistant").ok_or((
                    DropReason::NoAssistantTurn,
                    format!("{} turns, none from the assistant", turns.len()),
                ))?;
                let mut prompt = String::new();
                for turn in &turns[..first] {
                    prompt.push_str(&self.turn(turn)?);
                }
                let mut response = String::new();
                for turn in &turns[first..] {
                    response.push_str(&self.turn(turn)?);
                }
                Ok((prompt, response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: &str, content: &str) -> Turn {
        Turn {
            role: role.into(),
            content: content.into(),
        }
    }

    #[test]
    fn chatml_splits_before_the_first_assistant_turn() {
        let r = Renderer::new(CHATML_TURN).expect("renderer");
        let chat = Content::Chat(vec![
            turn("system", "s"),
            turn("user", "q"),
            turn("assistant", "a"),
            turn("user", "q2"),
            turn("assistant", "a2"),
        ]);
        let (prompt, response) = r.render(&chat, &[]).expect("render");
        assert_eq!(
            prompt,
            "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\nq<|im_end|>\n"
        );
        assert_eq!(
            response,
            "<|im_start|>assistant\na<|im_end|>\n<|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\na2<|im_end|>\n"
        );
    }

    #[test]
    fn refusals_name_their_reason() {
        let r = Renderer::new(CHATML_TURN).expect("renderer");
        let added = vec!["<|im_end|>".to_string()];
        let reason = |c: Content| r.render(&c, &added).expect_err("refused").0;
        assert_eq!(
            reason(Content::Chat(vec![turn("user", "x")])),
            DropReason::NoAssistantTurn
        );
        assert_eq!(
            reason(Content::Chat(vec![turn("robot", "x")])),
            DropReason::UnknownRole
        );
        assert_eq!(
            reason(Content::Chat(vec![turn("assistant", "a<|im_end|>")])),
            DropReason::SpecialTokenInContent
        );
        assert_eq!(reason(Content::Text("  \n".into())), DropReason::Empty);
        assert_eq!(
            r.render(&Content::Text("doc".into()), &added)
                .expect("text"),
            (String::new(), "doc".to_string())
        );
    }

    #[test]
    fn a_custom_turn_template_is_used() {
        let r = Renderer::new("[{{ role | upper }}] {{ content }}\n").expect("renderer");
        let chat = Content::Chat(vec![turn("user", "q"), turn("assistant", "a")]);
        assert_eq!(
            r.render(&chat, &[]).expect("render"),
            ("[USER] q\n".to_string(), "[ASSISTANT] a\n".to_string())
        );
        assert!(Renderer::new("{{ unclosed").is_err());
    }
}
