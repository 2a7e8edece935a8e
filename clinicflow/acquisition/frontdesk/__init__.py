"""The front desk: the live call log of a branch with its callbacks, a call's tags, checklist score and
administrator, the weekly review list of good and bad calls, and each branch's call checklist."""
