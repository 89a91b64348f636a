"""Typed `governance.yaml`: the one file where a user declares teams, people and models.

`schema` holds the models, `errors` builds messages that name the key path, `references`
checks what no single key shows, `loading` finds and reads the file.
"""

from governance_pipelines.config.errors import ConfigError
from governance_pipelines.config.loading import (
    expand_env,
    load_config,
    parse_config,
    resolve_config_path,
)
from governance_pipelines.config.schema import (
    DEFAULT_CONFIG_PATH,
    DEMO_CONFIG_COPY,
    PACKAGED_DEMO_CONFIG,
    AbTestConfig,
    ColumnSchema,
    CostConfig,
    DataConfig,
    DataSource,
    DriftMethod,
    EstimatorConfig,
    FairnessConfig,
    FileSource,
    GovernanceConfig,
    ModelConfig,
    MonitoringConfig,
    Name,
    PersonConfig,
    PythonSource,
    ScheduleConfig,
    SlaConfig,
    SqlSource,
    TeamConfig,
    TrainingConfig,
    ValidationConfig,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEMO_CONFIG_COPY",
    "PACKAGED_DEMO_CONFIG",
    "AbTestConfig",
    "ColumnSchema",
    "ConfigError",
    "CostConfig",
    "DataConfig",
    "DataSource",
    "DriftMethod",
    "EstimatorConfig",
    "FairnessConfig",
    "FileSource",
    "GovernanceConfig",
    "ModelConfig",
    "MonitoringConfig",
    "Name",
    "PersonConfig",
    "PythonSource",
    "ScheduleConfig",
    "SlaConfig",
    "SqlSource",
    "TeamConfig",
    "TrainingConfig",
    "ValidationConfig",
    "expand_env",
    "load_config",
    "parse_config",
    "resolve_config_path",
]
