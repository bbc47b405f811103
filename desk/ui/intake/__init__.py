"""Intake at the front desk: the registration form's surroundings — routing to a room, the ticket, the result banner
and the receipt."""
