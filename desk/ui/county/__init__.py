"""上级分流: diverting a case to a hall (at the county) and routing the cases diverted here (at a hall)."""
