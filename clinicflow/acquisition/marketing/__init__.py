"""Marketing: channels and campaigns, daily ad spend and its import from the ad systems' exports."""
