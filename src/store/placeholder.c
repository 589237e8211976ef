/* removed once the first module lands */
int sluice_store_placeholder(void);
int sluice_store_placeholder(void) { return 0; }
