/* removed once the first module lands */
int sluice_dns_placeholder(void);
int sluice_dns_placeholder(void) { return 0; }
