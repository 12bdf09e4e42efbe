package cache

// queue is a doubly linked list threaded through the item table's entries
// (their prev and next; 0 ends it), with the bytes its items are charged.
// SIEVE keeps one, W-TinyLFU three. The head is the newest item.
type queue struct {
	head, tail uint32
	bytes      int64
}

func (q *queue) pushFront(t *itemTable, i uint32) {
	e := t.at(i)
	e.prev, e.next = 0, q.head
	if q.head != 0 {
		t.at(q.head).prev = i
	} else {
		q.tail = i
	}
	q.head = i
	q.bytes += e.cost()
}

func (q *queue) remove(t *itemTable, i uint32) {
	e := t.at(i)
	if e.prev != 0 {
		t.at(e.prev).next = e.next
	} else {
		q.head = e.next
	}
	if e.next != 0 {
		t.at(e.next).prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next = 0, 0
	q.bytes -= e.cost()
}

func (q *queue) moveToFront(t *itemTable, i uint32) {
	if q.head != i {
		q.remove(t, i)
		q.pushFront(t, i)
	}
}

// moved repoints the links to an item that the arena moved to entry to
// (see itemTable.remove); the entry kept its own links.
func (q *queue) moved(t *itemTable, to uint32) {
	e := t.at(to)
	if e.prev != 0 {
		t.at(e.prev).next = to
	} else {
		q.head = to
	}
	if e.next != 0 {
		t.at(e.next).prev = to
	} else {
		q.tail = to
	}
}
