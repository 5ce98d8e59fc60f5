"""Analytics: the analysts' dashboards, drawn from the other domains' figures."""
