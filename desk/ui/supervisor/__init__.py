"""The supervisor's window (督办): warnings to read, overdue cases, whistles past their clocks, follow-ups due;
and the 重大 warning banner every desk window shows."""
