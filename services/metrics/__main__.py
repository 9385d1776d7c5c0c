"""`python -m services.metrics`: run the metrics service alone."""

from services.metrics.bootstrap import SERVICE, build_host
from services.metrics.settings import MetricsSettings
from shared.logging import configure_logging


def main() -> None:
    settings = MetricsSettings()
    configure_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    build_host(settings).run()


if __name__ == "__main__":
    main()
