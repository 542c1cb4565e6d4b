//! The local (no LLM) analyser: extractive summary, topics, action items and sentiment.

use crate::text;
use crate::transcript::Transcript;
use crate::types::{Analysis, Sentiment, SentimentLabel, SummarySource};
use crate::{action_items, keywords, language, sentiment, summary};

/// Most sentences in the summary of a longer call.
const SUMMARY_SENTENCES: usize = 3;
/// Calls with fewer candidate sentences than this get a two-sentence summary.
const SENTENCES_FOR_LONG_SUMMARY: usize = 6;
const MAX_BULLET_POINTS: usize = 5;
const MAX_KEY_TOPICS: usize = 8;
/// Language assumed when none is given and detection fails.
const FALLBACK_LANGUAGE: &str = "en";

/// Analyses a transcript without an LLM.
///
/// `language` is an ISO 639-1 code (a region suffix like `es-ES` is ignored); when absent it
/// is detected. Spanish and English are fully supported; other languages get an extractive
/// summary, topics from their own stop-word list, and sentiment with the English lexicon.
pub fn analyse_locally(transcript: &Transcript, language: Option<&str>) -> Analysis {
    let spoken = transcript.spoken_text();
    if spoken.trim().is_empty() {
        return Analysis {
            summary: String::new(),
            bullet_points: Vec::new(),
            key_topics: Vec::new(),
            action_items: Vec::new(),
            sentiment: Sentiment {
                score: 0.0,
                label: SentimentLabel::Neutral,
            },
            source: SummarySource::Local,
        };
    }

    let language = language
        .map(text::base_language)
        .filter(|code| !code.is_empty())
        .or_else(|| language::detect(&spoken).map(|detected| detected.code))
        .unwrap_or_else(|| FALLBACK_LANGUAGE.to_string());

    let sentences = text::split_sentences(&spoken);
    let ranked = summary::rank(&sentences, &language);
    let summary_length = if ranked.len() >= SENTENCES_FOR_LONG_SUMMARY {
        SUMMARY_SENTENCES
    } else {
        SUMMARY_SENTENCES - 1
    };
    let pick = |max: usize| -> Vec<String> {
        summary::select_ranked(&sentences, &ranked, max)
            .into_iter()
            .map(|i| sentences[i].to_string())
            .collect()
    };

    Analysis {
        summary: pick(summary_length).join(" "),
        bullet_points: pick(MAX_BULLET_POINTS),
        key_topics: keywords::extract(&spoken, &language, MAX_KEY_TOPICS),
        action_items: action_items::extract(&spoken),
        sentiment: sentiment::score(&spoken, &language),
        source: SummarySource::Local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Cue;

    /// A call as alternating turns; each turn is one 5-second cue.
    fn call(turns: &[(&str, &str)]) -> Transcript {
        Transcript::of_turns(turns.iter().copied(), 5_000)
    }

    fn angry_billing_es() -> Transcript {
        call(&[
            (
                "Agente",
                "Buenas tardes, le atiende Marta, del servicio de atención al cliente. ¿En qué puedo ayudarle?",
            ),
            (
                "Cliente",
                "Mire, le llamo porque estoy muy enfadado. Es la tercera vez que llamo por la misma factura.",
            ),
            (
                "Agente",
                "Lamento las molestias. ¿Me indica su número de cliente, por favor?",
            ),
            (
                "Cliente",
                "Es el 45281. Me han cobrado dos veces la factura de marzo y nadie me da una solución.",
            ),
            (
                "Agente",
                "Déjeme comprobarlo. Efectivamente, veo dos cargos de la misma factura en su cuenta.",
            ),
            (
                "Cliente",
                "Esto es una vergüenza. Llevo un mes esperando y el servicio es pésimo.",
            ),
            ("Agente", "Entiendo su frustración."),
            (
                "Cliente",
                "No, no lo entiende. Estoy harto de que me tomen el pelo y de hablar con gente incompetente.",
            ),
            (
                "Agente",
                "Voy a anular el cargo duplicado de la factura ahora mismo.",
            ),
            ("Agente", "Le enviaremos la factura mañana."),
            (
                "Cliente",
                "Me parece fatal que tenga que llamar tres veces para algo así.",
            ),
            (
                "Cliente",
                "Si vuelve a pasar, cancelo el contrato y pongo una reclamación.",
            ),
            ("Agente", "Lo entiendo. Queda registrada su queja."),
            ("Cliente", "Pues ya veremos. Adiós."),
        ])
    }

    fn angry_billing_en() -> Transcript {
        call(&[
            (
                "Agent",
                "Thank you for calling Northwind Telecom, this is Sam. How can I help you?",
            ),
            (
                "Customer",
                "Hi. I'm calling because my invoice is wrong again and honestly I'm furious.",
            ),
            (
                "Agent",
                "I'm sorry to hear that. Can I have your account number, please?",
            ),
            (
                "Customer",
                "It's 883107. You charged me twice on the same invoice and this is the third time I've called about it.",
            ),
            (
                "Agent",
                "I can see two payments against the March invoice on your account.",
            ),
            (
                "Customer",
                "This is ridiculous. Every month there is a new problem with your billing.",
            ),
            (
                "Customer",
                "Nobody calls me back and your service is absolutely terrible.",
            ),
            ("Agent", "I understand your frustration."),
            (
                "Customer",
                "I'm not happy at all. I've wasted hours on this.",
            ),
            (
                "Agent",
                "I'll refund the duplicate payment on the invoice today.",
            ),
            ("Agent", "You will get a corrected invoice next week."),
            (
                "Customer",
                "Fine. But if this happens again I'm cancelling my contract.",
            ),
            ("Agent", "Understood. Is there anything else?"),
            ("Customer", "No. This has been a waste of time."),
        ])
    }

    fn grateful_es() -> Transcript {
        call(&[
            (
                "Agente",
                "Buenos días, soporte técnico de Fibranet, le atiende Luis.",
            ),
            (
                "Cliente",
                "Hola Luis, buenos días. Le llamo solo para darle las gracias.",
            ),
            ("Agente", "¡Vaya! Cuénteme."),
            (
                "Cliente",
                "Ayer vino el técnico a casa y me dejó la fibra funcionando perfectamente.",
            ),
            (
                "Cliente",
                "Fue muy amable y muy profesional, y además me explicó todo con mucha paciencia.",
            ),
            ("Agente", "Me alegra mucho escuchar eso."),
            (
                "Cliente",
                "La verdad es que estoy encantada con el servicio. La conexión de fibra va rapidísima.",
            ),
            (
                "Agente",
                "Muchas gracias por llamar para contarlo, el técnico se pondrá muy contento.",
            ),
            (
                "Cliente",
                "Se lo merece. Después de tantos años con otra compañía, por fin estoy contenta.",
            ),
            ("Agente", "Es un placer. ¿Puedo ayudarla en algo más?"),
            (
                "Cliente",
                "No, nada más. Muchísimas gracias de verdad, ha sido un servicio excelente.",
            ),
            ("Agente", "Gracias a usted. Que tenga un buen día."),
        ])
    }

    fn grateful_en() -> Transcript {
        call(&[
            (
                "Agent",
                "Good afternoon, you're through to Brightside Energy, my name is Priya.",
            ),
            (
                "Customer",
                "Hi Priya. I just wanted to call and say thank you.",
            ),
            ("Agent", "Oh, that's lovely. What happened?"),
            (
                "Customer",
                "Last week my heating broke down and your engineer came out the same day.",
            ),
            (
                "Customer",
                "He was brilliant, really friendly and he explained everything about the heating clearly.",
            ),
            ("Agent", "I'm so glad to hear that."),
            (
                "Customer",
                "Honestly, I was worried we'd be cold all weekend, so it was a huge relief.",
            ),
            (
                "Agent",
                "That's wonderful, the engineer will be delighted to hear it.",
            ),
            (
                "Customer",
                "He deserves it. The whole service was excellent from start to finish.",
            ),
            ("Agent", "Thank you so much for taking the time to call us."),
            (
                "Customer",
                "My pleasure. Thanks again, and have a great day.",
            ),
            ("Agent", "You too, goodbye."),
        ])
    }

    fn routine_es() -> Transcript {
        call(&[
            (
                "Agente",
                "Buenos días, Clínica Dental Sonrisas, le atiende Carmen.",
            ),
            (
                "Cliente",
                "Hola, buenos días. Quería consultar el horario de la clínica en agosto.",
            ),
            (
                "Agente",
                "En agosto la clínica abre de lunes a viernes de nueve a dos.",
            ),
            ("Cliente", "Vale. ¿Y los sábados está cerrada?"),
            (
                "Agente",
                "Sí, los sábados la clínica permanece cerrada durante todo el verano.",
            ),
            (
                "Cliente",
                "Entendido. Otra pregunta, ¿la revisión anual está incluida en el seguro?",
            ),
            (
                "Agente",
                "Depende de la póliza. Con la póliza básica la revisión anual está incluida.",
            ),
            ("Cliente", "Creo que tengo la póliza básica."),
            (
                "Agente",
                "Entonces la revisión anual no tiene ningún coste para usted.",
            ),
            ("Cliente", "Perfecto. ¿Y la limpieza dental?"),
            (
                "Agente",
                "La limpieza dental cuesta cuarenta euros con la póliza básica.",
            ),
            ("Cliente", "De acuerdo, muchas gracias por la información."),
            ("Agente", "A usted. Que tenga un buen día."),
        ])
    }

    fn routine_en() -> Transcript {
        call(&[
            ("Agent", "Good morning, Acme Logistics, Daniel speaking."),
            (
                "Customer",
                "Hi Daniel, this is Laura from Greenfield Supplies. I'm calling about our delivery schedule for next month.",
            ),
            ("Agent", "Sure. Let me pull up your account."),
            (
                "Customer",
                "We have three shipments planned and I need to confirm the delivery dates.",
            ),
            (
                "Agent",
                "I can see the shipments for the fourth, the eleventh and the twentieth.",
            ),
            (
                "Customer",
                "Okay. Are those shipments delivered to the main warehouse or to the new site?",
            ),
            (
                "Agent",
                "The first two shipments go to the main warehouse and the last one goes to the new site.",
            ),
            (
                "Customer",
                "Got it. Can we also get a summary of last quarter's deliveries?",
            ),
            ("Agent", "Yes, I'll send you the report by Friday."),
            ("Customer", "Okay, thank you."),
            ("Agent", "You're welcome. Anything else?"),
            ("Customer", "No, that's all. Bye."),
        ])
    }

    fn assert_extractive(transcript: &Transcript, analysis: &Analysis) {
        let spoken = transcript.spoken_text();
        let summary_sentences = text::split_sentences(&analysis.summary);
        assert!(
            (2..=3).contains(&summary_sentences.len()),
            "summary: {:?}",
            analysis.summary
        );
        let bullets = analysis.bullet_points.iter().map(String::as_str);
        for sentence in summary_sentences.iter().copied().chain(bullets) {
            assert!(
                transcript.cues.iter().any(|c| c.text.contains(sentence)),
                "not verbatim: {sentence:?}"
            );
        }
        assert!(spoken.contains(summary_sentences[0]));
        assert!(
            !analysis.bullet_points.is_empty() && analysis.bullet_points.len() <= MAX_BULLET_POINTS
        );
        // Original order: each bullet appears after the previous one.
        let positions: Vec<usize> = analysis
            .bullet_points
            .iter()
            .filter_map(|b| spoken.find(b.as_str()))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert!(analysis.key_topics.len() <= MAX_KEY_TOPICS && !analysis.key_topics.is_empty());
        assert_eq!(analysis.source, SummarySource::Local);
    }

    /// Analyses a sample call and checks what every sample must show: the sentiment label (a
    /// charged sample well past ±0.5), the topics named, and an extractive summary.
    fn analysed(
        transcript: &Transcript,
        language: &str,
        label: SentimentLabel,
        topics: &[&str],
    ) -> Analysis {
        let analysis = analyse_locally(transcript, Some(language));
        assert_eq!(analysis.sentiment.label, label, "{analysis:?}");
        let score = analysis.sentiment.score;
        match label {
            SentimentLabel::Positive => assert!(score > 0.5, "{:?}", analysis.sentiment),
            SentimentLabel::Negative => assert!(score < -0.5, "{:?}", analysis.sentiment),
            SentimentLabel::Neutral => {}
        }
        for topic in topics {
            assert!(
                analysis.key_topics.contains(&topic.to_string()),
                "{topic}: {:?}",
                analysis.key_topics
            );
        }
        assert_extractive(transcript, &analysis);
        analysis
    }

    #[test]
    fn angry_spanish_billing_call() {
        let analysis = analysed(
            &angry_billing_es(),
            "es",
            SentimentLabel::Negative,
            &["factura"],
        );
        for item in [
            "Le enviaremos la factura mañana.",
            "Voy a anular el cargo duplicado de la factura ahora mismo.",
        ] {
            assert!(
                analysis.action_items.contains(&item.to_string()),
                "{:?}",
                analysis.action_items
            );
        }
    }

    #[test]
    fn angry_english_billing_call() {
        let analysis = analysed(
            &angry_billing_en(),
            "en",
            SentimentLabel::Negative,
            &["invoice"],
        );
        assert_eq!(
            analysis.action_items,
            vec!["I'll refund the duplicate payment on the invoice today."]
        );
    }

    #[test]
    fn grateful_spanish_call() {
        analysed(&grateful_es(), "es", SentimentLabel::Positive, &["fibra"]);
    }

    #[test]
    fn grateful_english_call() {
        let analysis = analysed(&grateful_en(), "en", SentimentLabel::Positive, &["heating"]);
        assert_eq!(analysis.action_items, Vec::<String>::new());
    }

    #[test]
    fn routine_spanish_call() {
        let analysis = analysed(
            &routine_es(),
            "es",
            SentimentLabel::Neutral,
            &["clínica", "póliza"],
        );
        assert_eq!(analysis.action_items, Vec::<String>::new());
    }

    #[test]
    fn routine_english_call() {
        let analysis = analysed(&routine_en(), "en", SentimentLabel::Neutral, &["shipments"]);
        assert_eq!(
            analysis.action_items,
            vec![
                "Let me pull up your account.",
                "Yes, I'll send you the report by Friday."
            ]
        );
    }

    #[test]
    fn detects_language_when_not_given() {
        let with_code = analyse_locally(&angry_billing_es(), Some("es-ES"));
        let detected = analyse_locally(&angry_billing_es(), None);
        assert_eq!(with_code, detected);
    }

    #[test]
    fn other_languages_get_a_best_effort_analysis() {
        let transcript = call(&[
            (
                "Agent",
                "Guten Tag, Sie sprechen mit dem Kundenservice der Stadtwerke.",
            ),
            (
                "Kunde",
                "Guten Tag, meine Rechnung für den Strom ist diesen Monat viel zu hoch.",
            ),
            (
                "Agent",
                "Ich prüfe Ihre Rechnung und den Zählerstand sofort.",
            ),
            (
                "Kunde",
                "Der Zählerstand auf der Rechnung stimmt nicht mit meinem Zähler überein.",
            ),
            (
                "Agent",
                "Sie haben recht, wir korrigieren die Rechnung für den Strom.",
            ),
        ]);
        let analysis = analyse_locally(&transcript, Some("de"));
        assert_eq!(text::split_sentences(&analysis.summary).len(), 2);
        assert!(
            analysis.key_topics.contains(&"rechnung".to_string()),
            "{:?}",
            analysis.key_topics
        );
        assert_eq!(analysis.source, SummarySource::Local);
    }

    #[test]
    fn empty_transcript() {
        let expected = Analysis {
            summary: String::new(),
            bullet_points: vec![],
            key_topics: vec![],
            action_items: vec![],
            sentiment: Sentiment {
                score: 0.0,
                label: SentimentLabel::Neutral,
            },
            source: SummarySource::Local,
        };
        assert_eq!(
            analyse_locally(&Transcript::default(), Some("es")),
            expected
        );
        assert_eq!(
            analyse_locally(&call(&[("A", "  "), ("B", "")]), None),
            expected
        );
    }

    #[test]
    fn result_serialises() {
        let analysis = analyse_locally(&routine_en(), Some("en"));
        let json = serde_json::to_value(&analysis).unwrap();
        assert_eq!(json["source"], "local");
        assert_eq!(json["sentiment"]["label"], "neutral");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(
            texts in proptest::collection::vec("\\PC{0,60}", 0..8),
            language in proptest::option::of("[a-z]{0,3}(-[A-Z]{2})?"),
        ) {
            let transcript = Transcript {
                cues: texts
                    .iter()
                    .enumerate()
                    .map(|(i, text)| Cue {
                        start_ms: i as u64,
                        end_ms: i as u64 + 1,
                        speaker: None,
                        text: text.clone(),
                    })
                    .collect(),
            };
            let analysis = analyse_locally(&transcript, language.as_deref());
            proptest::prop_assert!(analysis.sentiment.score.is_finite());
            proptest::prop_assert!((-1.0..=1.0).contains(&analysis.sentiment.score));
        }
    }
}
