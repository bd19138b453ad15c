"""Response models: the documented shapes of every API answer (shown in OpenAPI).

One home, one module per feature; import them from here.
"""

from api.schemas.access import BackfillOut, KeyOut, KeysOut
from api.schemas.air import (
    Band,
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
    EmissionRowOut,
    EmissionsOut,
    FactorOut,
    FactorsOut,
    GridIntensityOut,
    IndicatorsOut,
    SourceOut,
)
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
    "DaqiHistoryOut",
    "DaqiHour",
    "DaqiOut",
    "DaqiOverall",
    "DaqiPollutant",
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
