// BatchRunner module: placeholder until its issue lands.
