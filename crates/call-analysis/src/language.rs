//! Language detection with whatlang, reported as ISO 639-1 codes.

use whatlang::Lang;

use super::types::DetectedLanguage;

/// Detection cost grows with length and a few thousand characters are plenty.
const MAX_DETECTION_CHARS: usize = 10_000;

/// Detects the language of `text`; `None` when there is nothing to detect or whatlang gives up.
/// Short text yields whatever (usually low) confidence whatlang reports.
pub fn detect(text: &str) -> Option<DetectedLanguage> {
    if !text.chars().any(char::is_alphabetic) {
        return None;
    }
    let sample = match text.char_indices().nth(MAX_DETECTION_CHARS) {
        Some((byte_index, _)) => &text[..byte_index],
        None => text,
    };
    let info = whatlang::detect(sample)?;
    let confidence = info.confidence();
    Some(DetectedLanguage {
        code: iso639_1(info.lang()).to_string(),
        confidence: if confidence.is_finite() {
            confidence.clamp(0.0, 1.0)
        } else {
            0.0
        },
    })
}

/// ISO 639-1 code for a whatlang language (whatlang itself speaks ISO 639-3).
pub fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected_code(text: &str) -> Option<String> {
        detect(text).map(|d| d.code)
    }

    #[test]
    fn detects_spanish_call() {
        let text = "Buenos días, le llamo porque me han cobrado dos veces la factura de este mes. \
                    Ya he llamado tres veces y nadie me da una solución. \
                    ¿Me puede decir qué está pasando con mi cuenta? \
                    Necesito que me devuelvan el dinero cuanto antes.";
        assert_eq!(detected_code(text).as_deref(), Some("es"));
    }

    #[test]
    fn detects_english_call() {
        let text = "Hi, thanks for calling, how can I help you today? \
                    Yeah, I was charged twice on my last invoice and I would like to get that sorted. \
                    Okay, let me pull up your account, could you give me your account number please? \
                    Sure, it should be on the letter you sent me last week.";
        assert_eq!(detected_code(text).as_deref(), Some("en"));
    }

    #[test]
    fn detects_portuguese_call() {
        let text = "Bom dia, estou ligando porque a minha internet não está funcionando desde ontem. \
                    Já reiniciei o roteador várias vezes e continua sem sinal. \
                    Vocês podem mandar um técnico aqui em casa amanhã de manhã? \
                    Preciso muito da conexão para trabalhar.";
        assert_eq!(detected_code(text).as_deref(), Some("pt"));
    }

    #[test]
    fn detects_french_call() {
        let text = "Bonjour, je vous appelle parce que je n'ai toujours pas reçu ma commande. \
                    On m'avait dit qu'elle arriverait lundi, mais rien n'est arrivé. \
                    Est-ce que vous pouvez vérifier où elle se trouve, s'il vous plaît? \
                    Je voudrais aussi savoir si je peux être remboursé.";
        assert_eq!(detected_code(text).as_deref(), Some("fr"));
    }

    #[test]
    fn detects_italian_call() {
        let text = "Buongiorno, la chiamo perché la bolletta di questo mese è molto più alta del solito. \
                    Non capisco da dove vengono questi costi in più. \
                    Potrebbe controllare il mio contratto, per favore? \
                    Vorrei anche sapere se posso cambiare tariffa.";
        assert_eq!(detected_code(text).as_deref(), Some("it"));
    }

    #[test]
    fn detects_german_call() {
        let text = "Guten Tag, ich rufe an, weil meine Rechnung diesen Monat viel zu hoch ist. \
                    Ich habe den Vertrag letztes Jahr gekündigt und trotzdem wurde abgebucht. \
                    Können Sie das bitte überprüfen und mir das Geld zurücküberweisen? \
                    Ich warte jetzt schon seit zwei Wochen auf eine Antwort.";
        assert_eq!(detected_code(text).as_deref(), Some("de"));
    }

    #[test]
    fn confident_on_long_text() {
        let text = "Buenos días, le llamo porque me han cobrado dos veces la factura de este mes. \
                    Ya he llamado tres veces y nadie me da una solución.";
        let detected = detect(text).unwrap();
        assert!(detected.confidence > 0.5, "{detected:?}");
    }

    #[test]
    fn empty_or_letterless_text_is_none() {
        assert_eq!(detect(""), None);
        assert_eq!(detect("   \n\t"), None);
        assert_eq!(detect("123 456 !!! ..."), None);
    }

    #[test]
    fn very_short_text_is_not_confident() {
        // whatlang either gives up or reports low confidence on a single ambiguous word.
        if let Some(detected) = detect("no") {
            assert!(detected.confidence < 0.5, "{detected:?}");
        }
    }

    #[test]
    fn maps_codes() {
        assert_eq!(iso639_1(Lang::Cat), "ca");
        assert_eq!(iso639_1(Lang::Nld), "nl");
        assert_eq!(iso639_1(Lang::Pes), "fa");
    }
}
