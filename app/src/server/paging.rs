//! One rule for every paged list: how many pages a list has, which rows a page holds, and what
//! a page past the end is (not found, so a stale or made-up ?page= never shows an empty page
//! as if it were real). Page 0 is read as page 1.
use crate::error::AppError;

/// One page of a list, known to exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// From 1.
    pub number: u64,
    /// How many pages the list has (at least 1).
    pub count: u64,
    /// Rows a page holds.
    pub size: u64,
}

impl Page {
    /// Rows before this page.
    pub fn offset(&self) -> u64 {
        (self.number - 1) * self.size
    }
}

/// How many pages `total` rows fill at `size` a page: at least one, so an empty list still has
/// its (empty) first page.
pub fn page_count(total: u64, size: u64) -> u64 {
    total.div_ceil(size.max(1)).max(1)
}

/// Page `asked` of a list of `total` rows at `size` a page.
pub fn page(asked: u64, total: u64, size: u64) -> Result<Page, AppError> {
    let count = page_count(total, size);
    let number = asked.max(1);
    if number > count {
        return Err(AppError::NotFound(format!(
            "There is no page {number}; this has {}.",
            crate::format::count(count as i64, "page", "pages")
        )));
    }
    Ok(Page {
        number,
        count,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_once_and_a_page_past_the_end_is_not_found() {
        assert_eq!(page_count(0, 30), 1);
        assert_eq!(page_count(30, 30), 1);
        assert_eq!(page_count(31, 30), 2);
        let p = page(0, 31, 30).unwrap();
        assert_eq!((p.number, p.count, p.offset()), (1, 2, 0));
        assert_eq!(page(2, 31, 30).unwrap().offset(), 30);
        assert_eq!(
            page(1, 0, 30).unwrap().count,
            1,
            "an empty list has its first page"
        );
        match page(3, 31, 30) {
            Err(AppError::NotFound(m)) => assert_eq!(m, "There is no page 3; this has 2 pages."),
            other => panic!("{other:?}"),
        }
        match page(2, 5, 30) {
            Err(AppError::NotFound(m)) => assert_eq!(m, "There is no page 2; this has 1 page."),
            other => panic!("{other:?}"),
        }
    }
}
