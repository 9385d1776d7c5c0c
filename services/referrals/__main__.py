"""`python -m services.referrals`: run the referrals service alone."""

from services.referrals.bootstrap import SERVICE, build_host
from services.referrals.settings import ReferralsSettings
from shared.logging import configure_logging


def main() -> None:
    settings = ReferralsSettings()
    configure_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    build_host(settings).run()


if __name__ == "__main__":
    main()
