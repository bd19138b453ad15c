"""What each Daily Air Quality Index band means for people, in plain English.

The advice follows the health messages DEFRA publishes with the index, for the general
population and for people at greater risk (adults and children with heart or lung
conditions, and older people). The wording here is our own; the sources are:

- DEFRA, UK-AIR, "Daily Air Quality Index":
  https://uk-air.defra.gov.uk/air-pollution/daqi?view=more-info (bands and health messages,
  recommended by COMEAP);
- UK Health Security Agency, "Health advice for the Daily Air Quality Index (DAQI)",
  19 December 2025:
  https://www.gov.uk/government/publications/health-effects-of-air-pollution/health-advice-for-the-daily-air-quality-index-daqi

The page links both and tells readers that the official advice is the one to follow.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFRA_DAQI_URL = "https://uk-air.defra.gov.uk/air-pollution/daqi?view=more-info"
UKHSA_ADVICE_URL = ("https://www.gov.uk/government/publications/health-effects-of-air-pollution/"
                    "health-advice-for-the-daily-air-quality-index-daqi")


@dataclass(frozen=True, slots=True)
class BandAdvice:
    """A band's range and what it means for everyone and for people at greater risk."""

    band: str
    indices: str
    summary: str
    everyone: str
    at_risk: str


ADVICE: dict[str, BandAdvice] = {
    "Low": BandAdvice(
        "Low", "1 to 3", "Air pollution is low.",
        "Carry on with your usual outdoor activities.",
        "Most people with a heart or lung condition notice nothing at this level. Keep to "
        "your usual care plan, such as an asthma action plan."),
    "Moderate": BandAdvice(
        "Moderate", "4 to 6", "Air pollution is moderate.",
        "Carry on with your usual outdoor activities.",
        "If you have a heart or lung condition and you notice symptoms, think about doing "
        "less strenuous exercise, especially outdoors."),
    "High": BandAdvice(
        "High", "7 to 9", "Air pollution is high.",
        "If your eyes feel sore, or you have a cough or a sore throat, think about doing "
        "less outdoors.",
        "If you have a heart or lung condition, or you are older, do less strenuous "
        "exercise, especially outdoors and especially if you notice symptoms. If you have "
        "asthma, you may need your reliever inhaler more often."),
    "Very High": BandAdvice(
        "Very High", "10", "Air pollution is very high.",
        "Do less physical activity outdoors, especially if you have symptoms such as a cough "
        "or a sore throat.",
        "If you have a heart or lung condition, or you are older, avoid strenuous physical "
        "activity. If you have asthma, you may need your reliever inhaler more often."),
}


def advice_for(band: str | None) -> BandAdvice | None:
    """The advice for a band (``Low``, ``Moderate``, ``High``, ``Very High``), if known."""
    return ADVICE.get(band) if band else None
