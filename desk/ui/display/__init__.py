"""The hall's calling screen and the voice that announces its calls."""
