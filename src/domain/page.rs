//! Pages of a list: `/escalations all page 2`. A list shows one page of [`PAGE_SIZE`] items,
//! says how many matched in all, and how to ask for the next page.

/// Items on one page of a list. Small enough for one message on every platform.
pub const PAGE_SIZE: i64 = 25;

/// A 1-based page number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Page(u32);

impl Page {
    pub const FIRST: Page = Page(1);

    pub fn new(number: u32) -> Option<Page> {
        (number >= 1).then_some(Page(number))
    }

    pub fn number(self) -> u32 {
        self.0
    }

    /// Rows to skip before this page.
    pub fn offset(self) -> i64 {
        i64::from(self.0 - 1) * PAGE_SIZE
    }

    pub fn limit(self) -> i64 {
        PAGE_SIZE
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::FIRST
    }
}

/// Takes `page N` or `page=N` out of a command's words; the other words come back in order.
/// The error is the word that is not a page number.
pub fn take_page(args: &str) -> Result<(Vec<&str>, Page), String> {
    let mut words = Vec::new();
    let mut page = Page::FIRST;
    let mut iter = args.split_whitespace();
    while let Some(word) = iter.next() {
        let number = if word.eq_ignore_ascii_case("page") {
            Some(iter.next().unwrap_or(""))
        } else {
            word.strip_prefix("page=").or_else(|| word.strip_prefix("PAGE="))
        };
        match number {
            Some(raw) => {
                page = raw.parse::<u32>().ok().and_then(Page::new).ok_or_else(|| raw.to_owned())?
            }
            None => words.push(word),
        }
    }
    Ok((words, page))
}

/// One page of a list and how many items matched in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: Page,
}

impl<T> Listing<T> {
    /// How many pages the whole list takes (at least one, so "page 1 of 1" when empty).
    pub fn pages(&self) -> u32 {
        let pages = (self.total + PAGE_SIZE - 1) / PAGE_SIZE;
        u32::try_from(pages.max(1)).unwrap_or(u32::MAX)
    }

    pub fn has_next(&self) -> bool {
        self.page.number() < self.pages()
    }

    /// The 1-based position of the first item shown (0 when none is).
    pub fn first_position(&self) -> i64 {
        if self.items.is_empty() { 0 } else { self.page.offset() + 1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_words_are_taken_out_in_either_form() {
        assert_eq!(take_page("all page 3 open").unwrap(), (vec!["all", "open"], Page(3)));
        assert_eq!(take_page("page=2").unwrap(), (vec![], Page(2)));
        assert_eq!(take_page("mine").unwrap(), (vec!["mine"], Page::FIRST));
    }

    #[test]
    fn a_page_that_is_not_a_positive_number_is_refused() {
        assert_eq!(take_page("page 0"), Err("0".to_owned()));
        assert_eq!(take_page("page two"), Err("two".to_owned()));
        assert_eq!(take_page("page"), Err(String::new()));
    }

    #[test]
    fn pages_round_up_and_offsets_follow() {
        let listing = Listing { items: vec![1; 25], total: 2_014, page: Page(2) };
        assert_eq!(listing.pages(), 81);
        assert!(listing.has_next());
        assert_eq!(listing.first_position(), 26);
        assert_eq!(Page(81).offset(), 2_000);
        let last = Listing { items: vec![1; 14], total: 2_014, page: Page(81) };
        assert!(!last.has_next());
        let empty: Listing<i32> = Listing { items: vec![], total: 0, page: Page::FIRST };
        assert_eq!((empty.pages(), empty.first_position()), (1, 0));
    }
}
