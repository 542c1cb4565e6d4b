//! Who is the agent and who the customer, from the recording's metadata and the cues.
//!
//! The rule, first match wins:
//! 1. a speaker whose name matches the recording's owner (our Webex user) is the agent;
//! 2. a speaker whose name matches the other party (the caller on an inbound call, the
//!    callee on an outbound one) is the customer;
//! 3. a speaker whose first cue is a company-style greeting ("thank you for calling",
//!    "¿en qué le puedo ayudar?", `data/insight/agent_greetings.txt`) is the agent;
//! 4. otherwise the side that answers the phone opens the call: on an inbound (or unknown
//!    direction) call the first speaker is the agent, on an outbound call the customer.
//!
//! The other role goes to the other speaker with the most talk time. Names match when,
//! folded, one contains the other or they share a word of three letters or more, so
//! "Ana García" matches the cue speaker "Ana".

use std::collections::HashMap;

use unicode_segmentation::UnicodeSegmentation;

use crate::call_metrics::{UNKNOWN_SPEAKER, speaker_of};
use crate::data::{WordList, embedded_word_list};
use crate::text::fold;
use crate::transcript::Cue;

use super::Roles;

static AGENT_GREETINGS: WordList = embedded_word_list!("insight/agent_greetings.txt");

/// Which way the call went, seen from our Webex user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallDirection {
    Inbound,
    Outbound,
}

/// What the recording's metadata says about the parties, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleHints {
    /// Display name of the recording's owner: our side, the agent.
    pub owner_name: Option<String>,
    pub calling_party: Option<String>,
    pub called_party: Option<String>,
    pub direction: Option<CallDirection>,
}

impl RoleHints {
    /// The party that is not our user: the caller of an inbound call, the callee of an
    /// outbound one, and the caller when the direction is unknown (calls mostly come in).
    fn other_party(&self) -> Option<&str> {
        match self.direction {
            Some(CallDirection::Outbound) => self.called_party.as_deref(),
            _ => self.calling_party.as_deref(),
        }
    }
}

/// The roles of the call's two main speakers, or `None` with fewer than two named speakers.
pub fn decide_roles(hints: &RoleHints, cues: &[Cue]) -> Option<Roles> {
    let speakers = speakers_by_talk(cues);
    if speakers.len() < 2 {
        return None;
    }
    let named = |name: Option<&str>| {
        let name = name?;
        speakers.iter().find(|s| names_match(name, s)).copied()
    };
    if let Some(agent) = named(hints.owner_name.as_deref()) {
        return pair_with(agent, &speakers, true);
    }
    // With the direction known, the other party is a fact; unknown, it is a guess, and what
    // was said (a company greeting) weighs more.
    let other = named(hints.other_party());
    if let Some(customer) = other.filter(|_| hints.direction.is_some()) {
        return pair_with(customer, &speakers, false);
    }
    if let Some(agent) = greeting_speaker(cues) {
        return pair_with(agent, &speakers, true);
    }
    if let Some(customer) = other {
        return pair_with(customer, &speakers, false);
    }
    let first = cues
        .iter()
        .map(speaker_of)
        .find(|s| *s != UNKNOWN_SPEAKER)?;
    let first_is_agent = hints.direction != Some(CallDirection::Outbound);
    pair_with(first, &speakers, first_is_agent)
}

/// Named speakers, most talk time first (ties by name, so the order is stable).
fn speakers_by_talk(cues: &[Cue]) -> Vec<&str> {
    let mut talk: HashMap<&str, u64> = HashMap::new();
    for cue in cues {
        let speaker = speaker_of(cue);
        if speaker != UNKNOWN_SPEAKER {
            *talk.entry(speaker).or_default() += cue.end_ms.saturating_sub(cue.start_ms);
        }
    }
    let mut speakers: Vec<(&str, u64)> = talk.into_iter().collect();
    speakers.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    speakers.into_iter().map(|(speaker, _)| speaker).collect()
}

fn pair_with(known: &str, speakers: &[&str], known_is_agent: bool) -> Option<Roles> {
    let other = speakers.iter().find(|s| **s != known)?;
    let (agent, customer) = if known_is_agent {
        (known, *other)
    } else {
        (*other, known)
    };
    Some(Roles {
        agent: agent.to_owned(),
        customer: customer.to_owned(),
    })
}

fn names_match(hint: &str, speaker: &str) -> bool {
    let (hint, speaker) = (fold(hint.trim()), fold(speaker.trim()));
    if hint.is_empty() || speaker.is_empty() {
        return false;
    }
    if hint.contains(&speaker) || speaker.contains(&hint) {
        return true;
    }
    let long_words = |name: &str| -> Vec<String> {
        name.unicode_words()
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_owned)
            .collect()
    };
    let speaker_words = long_words(&speaker);
    long_words(&hint).iter().any(|w| speaker_words.contains(w))
}

/// The speaker whose first cue opens with a company-style greeting, if exactly one does.
fn greeting_speaker(cues: &[Cue]) -> Option<&str> {
    let mut seen: Vec<&str> = Vec::new();
    let mut greeters: Vec<&str> = Vec::new();
    for cue in cues {
        let speaker = speaker_of(cue);
        if speaker == UNKNOWN_SPEAKER || seen.contains(&speaker) {
            continue;
        }
        seen.push(speaker);
        let text = fold(&cue.text);
        if AGENT_GREETINGS
            .iter()
            .any(|greeting| text.contains(greeting))
        {
            greeters.push(speaker);
        }
    }
    match greeters.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_s: u64, speaker: &str, text: &str) -> Cue {
        Cue {
            start_ms: start_s * 1000,
            end_ms: start_s * 1000 + 4000,
            speaker: Some(speaker.to_owned()),
            text: text.to_owned(),
        }
    }

    fn roles(agent: &str, customer: &str) -> Option<Roles> {
        Some(Roles {
            agent: agent.to_owned(),
            customer: customer.to_owned(),
        })
    }

    /// A call where the customer speaks first and nobody greets like a company.
    fn customer_first() -> Vec<Cue> {
        vec![
            cue(0, "Ana", "Hola, soy Ana, llamo por mi factura."),
            cue(5, "Luis", "Hola Ana, dígame el número de cliente."),
            cue(10, "Ana", "Es el 1234."),
        ]
    }

    /// Hints for a call in `direction`: the owner's name, then the calling and called party.
    fn hints(direction: CallDirection, names: [Option<&str>; 3]) -> RoleHints {
        let [owner_name, calling_party, called_party] = names.map(|n| n.map(str::to_owned));
        RoleHints {
            owner_name,
            calling_party,
            called_party,
            direction: Some(direction),
        }
    }

    #[test]
    fn owner_name_marks_the_agent_on_inbound_and_outbound_calls() {
        for direction in [CallDirection::Inbound, CallDirection::Outbound] {
            let owner = hints(direction, [Some("Luis Pérez"), None, None]);
            assert_eq!(
                decide_roles(&owner, &customer_first()),
                roles("Luis", "Ana")
            );
        }
    }

    #[test]
    fn the_other_party_marks_the_customer() {
        let calls = [
            (
                CallDirection::Inbound,
                [None, Some("ana"), Some("Support line")],
            ),
            (
                CallDirection::Outbound,
                [None, Some("Luis"), Some("Ana García")],
            ),
        ];
        for (direction, names) in calls {
            let parties = hints(direction, names);
            assert_eq!(
                decide_roles(&parties, &customer_first()),
                roles("Luis", "Ana")
            );
        }
    }

    #[test]
    fn without_matching_names_the_company_greeting_marks_the_agent() {
        let cues = vec![
            cue(0, "Speaker 1", "¿Hola?"),
            cue(
                3,
                "Speaker 2",
                "Gracias por llamar a Acme, ¿en qué le puedo ayudar?",
            ),
            cue(8, "Speaker 1", "Tengo un problema con la factura."),
        ];
        let unmatched = hints(CallDirection::Inbound, [Some("Nobody Here"), None, None]);
        assert_eq!(
            decide_roles(&unmatched, &cues),
            roles("Speaker 2", "Speaker 1")
        );
    }

    /// Without a known direction the caller is only probably the customer: the one who greets
    /// as a company does is the agent, whatever the parties' names say.
    #[test]
    fn with_the_direction_unknown_a_greeting_outweighs_the_guessed_party() {
        let cues = vec![
            cue(
                0,
                "John Smith",
                "Thanks for calling Acme support, how can I help?",
            ),
            cue(4, "Mary", "My invoice is wrong."),
        ];
        let guessed = RoleHints {
            calling_party: Some("John Smith".into()),
            ..RoleHints::default()
        };
        assert_eq!(decide_roles(&guessed, &cues), roles("John Smith", "Mary"));
        let known = RoleHints {
            direction: Some(CallDirection::Inbound),
            ..guessed
        };
        assert_eq!(decide_roles(&known, &cues), roles("Mary", "John Smith"));
    }

    #[test]
    fn without_names_or_greeting_the_answering_side_speaks_first() {
        let inbound = hints(CallDirection::Inbound, [None; 3]);
        assert_eq!(
            decide_roles(&inbound, &customer_first()),
            roles("Ana", "Luis")
        );
        let outbound = hints(CallDirection::Outbound, [None; 3]);
        assert_eq!(
            decide_roles(&outbound, &customer_first()),
            roles("Luis", "Ana")
        );
    }

    #[test]
    fn one_speaker_has_no_roles() {
        let cues = vec![cue(0, "Ana", "Hola."), cue(5, "Ana", "¿Hay alguien?")];
        assert_eq!(decide_roles(&RoleHints::default(), &cues), None);
    }
}
