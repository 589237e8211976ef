/* removed once the first module lands */
int sluice_portal_placeholder(void);
int sluice_portal_placeholder(void) { return 0; }
