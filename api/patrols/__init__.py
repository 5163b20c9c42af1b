"""Grid workers' patrols (巡查): tracks, their coverage of the grid, neglected grids, reports on patrol."""
