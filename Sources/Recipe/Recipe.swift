// Recipe module: placeholder until its issue lands.
