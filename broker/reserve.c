/*
 * reserve.c: the room kept for ending consents.
 *
 * Past BROKER_RESERVE_FILL_PCT of the map, the store takes only what a
 * person needs to stop their data flowing (the commands marked C_RESERVE
 * in common/proto.h: REVOKE, PAUSE, ERASE, UNDELEGATE) and the broker's
 * own end-of-consent work (expiries): every other request that would make
 * the store grow is refused store_full, refusals are answered but not
 * logged, deliveries wait (each writes a use-log entry), notices and
 * reviews wait.  The fill is measured in the very transaction being
 * written (store_size), so a turn that starts below the line and crosses
 * it is caught at the request that crosses it.
 */
#include "broker.h"

unsigned
reserve_fill_pct(struct broker *b, MDB_txn *txn)
{
	struct store_size sz;

	store_size(b->store, txn, &sz);
	if (sz.map_bytes == 0)
		return 100;
	return (unsigned)(sz.pages * sz.page_bytes * 100 / sz.map_bytes);
}

bool
reserve_in(struct broker *b, MDB_txn *txn)
{
	return reserve_fill_pct(b, txn) >= BROKER_RESERVE_FILL_PCT;
}

bool
reserve_grew(struct broker *b, MDB_txn *txn, const struct store_size *before)
{
	struct store_size now;

	store_size(b->store, txn, &now);
	return now.pages > before->pages || now.entries > before->entries;
}
