"""A branch's own life (issue 16): its officers (书记、副书记、委员), organisational-life meetings of every kind,
check-in, political birthdays, party lectures, needs surveys and the plan's evaluation report."""
