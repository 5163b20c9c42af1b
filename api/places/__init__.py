"""The places register (民情地图): places as points with versions, routed like reports; grid
aggregates as counts; import and export of place files."""
