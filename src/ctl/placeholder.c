/* removed once the first module lands */
int sluice_ctl_placeholder(void);
int sluice_ctl_placeholder(void) { return 0; }
