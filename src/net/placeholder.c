/* removed once the first module lands */
int sluice_net_placeholder(void);
int sluice_net_placeholder(void) { return 0; }
