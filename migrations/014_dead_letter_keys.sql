-- A dead letter is set aside once, however often the job that carries its item runs again (a retry after another
-- item's passing failure used to add the same letter each time, inflating the counts). The key names the item:
-- `event:<kind>:<event id>`, `decision:<id>`, or, for an item that does not parse (its ids cannot be trusted),
-- `job:<job id>:<kind>:<index in the job>`. Letters stored before it have none (nulls never conflict).
alter table dead_letters add column letter_key text;
create unique index dead_letters_letter_key on dead_letters (letter_key);
