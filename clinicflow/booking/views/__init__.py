"""Staff and public booking pages, one module per part: ``calendar`` (the calendar, a doctor's own
schedule and feed), ``appointments`` (free slots, booking, an appointment's card and its actions),
``waitlist``, ``setup`` (resources and settings), ``schedules`` (a doctor's week and exceptions) and
``public`` (the patients' booking pages). Thin: forms parse, selectors read, one service writes."""
