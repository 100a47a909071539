/*
 * dashboard.h: carnet dashboard, the person's page in their browser (a
 * command of the carnet CLI, which links this layer).
 */
#ifndef CARNET_DASHBOARD_H
#define CARNET_DASHBOARD_H

/* carnet dashboard [options]: serve the page until interrupted. */
int cmd_dashboard(int argc, char **argv);

#endif
