"""The calendar: month, week and agenda views painted from PostView values."""
