# Kazakh formats, which Django does not ship (it falls back to English: "12/02/2026",
# "4170994.98"). From CLDR's kk locale: dd.MM.y, HH:mm, decimal comma, a no-break space between
# thousands.
DATE_FORMAT = r"j E Y \ж."
TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j E Y \ж. H:i"
YEAR_MONTH_FORMAT = r"F Y \ж."
MONTH_DAY_FORMAT = "j E"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M"]
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3
