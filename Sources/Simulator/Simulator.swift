// Simulator module: placeholder until its issue lands.
