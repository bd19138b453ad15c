"""Response models: the documented shapes of every API answer (shown in OpenAPI).

One home, one module per feature; import them from here.
"""

from api.schemas.access import BackfillOut, KeyOut, KeysOut
from api.schemas.air import (
    Band,
    DaqiDailyOut,
    DaqiHistoryOut,
    DaqiHour,
    DaqiOut,
    DaqiOverall,
    DaqiPollutant,
)
from api.schemas.alerts import (
    AcknowledgeIn,
    AlertActionOut,
    AlertEventOut,
    AlertHistoryOut,
    RetireIn,
    SensorFlagOut,
    SilenceIn,
)
from api.schemas.carbon import (
    ActivityOut,
    AppliedFactorOut,
    DisclosureOut,
    EmissionRowOut,
    EmissionsOut,
    FactorOut,
    FactorsOut,
    GridIntensityOut,
    SourceOut,
)
from api.schemas.indicators import IndicatorsOut
from api.schemas.network import (
    Health,
    InfluxHealth,
    LiveSeriesOut,
    SensorList,
    SensorReading,
    SensorReadingsOut,
    SensorState,
    SensorStatus,
    SeqGapOut,
)

__all__ = [
    "AcknowledgeIn",
    "ActivityOut",
    "AlertActionOut",
    "AlertEventOut",
    "AlertHistoryOut",
    "AppliedFactorOut",
    "BackfillOut",
    "Band",
    "DaqiDailyOut",
    "DaqiHistoryOut",
    "DaqiHour",
    "DaqiOut",
    "DaqiOverall",
    "DaqiPollutant",
    "DisclosureOut",
    "EmissionRowOut",
    "EmissionsOut",
    "FactorOut",
    "FactorsOut",
    "GridIntensityOut",
    "Health",
    "IndicatorsOut",
    "InfluxHealth",
    "KeyOut",
    "KeysOut",
    "LiveSeriesOut",
    "RetireIn",
    "SensorFlagOut",
    "SensorList",
    "SensorReading",
    "SensorReadingsOut",
    "SensorState",
    "SensorStatus",
    "SeqGapOut",
    "SilenceIn",
    "SourceOut",
]
