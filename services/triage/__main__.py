"""`python -m services.triage`: run the triage service alone."""

from services.triage.bootstrap import SERVICE, build_host
from services.triage.settings import TriageSettings
from shared.logging import configure_logging


def main() -> None:
    settings = TriageSettings()
    configure_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    build_host(settings).run()


if __name__ == "__main__":
    main()
