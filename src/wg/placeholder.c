/* removed once the first module lands */
int sluice_wg_placeholder(void);
int sluice_wg_placeholder(void) { return 0; }
