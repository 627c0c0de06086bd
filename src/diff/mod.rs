//! Template diff and its text / markdown / json renderings.
