"""`python -m services.booking`: run the booking service alone."""

from services.booking.bootstrap import SERVICE, build_host
from services.booking.settings import BookingSettings
from shared.logging import configure_logging


def main() -> None:
    settings = BookingSettings()
    configure_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    build_host(settings).run()


if __name__ == "__main__":
    main()
