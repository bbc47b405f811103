"""The desk's windows and dialogs; they call services and never open sessions themselves."""
