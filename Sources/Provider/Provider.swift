// Provider module: placeholder until its issue lands.
