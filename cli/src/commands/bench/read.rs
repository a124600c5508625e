//! `bench read`: the menu, as fast as the load allows.

use super::*;

pub(super) async fn read(g: &Global, a: ReadArgs) -> Result<(), CliError> {
    check_load(&a.load)?;
    let show = show_progress(g, &a.load);
    let ss = sessions(g, connections(&a.load)).await?;
    seed(&ss[0], &a.setup).await?;
    let against = endpoints_of(&ss);
    let ctx = Arc::new((ss.clone(), restaurant_ids(&a.setup)));
    let op: Op = Arc::new(move |seq| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let (sessions, restaurants) = &*ctx;
            let s = &sessions[seq as usize % sessions.len()];
            let r = RestaurantRef {
                restaurant: restaurants[seq as usize % restaurants.len()].clone(),
            };
            s.call::<_, Menu>(catalog_types::MENU_GET, None, &r)
                .await
                .map(|_| ())
                .map_err(|e| client_error_kind(&e))
        }) as OpFuture
    });
    let (plan, rec) = drive(&load_of(&a.load), op, "menu.get", show).await;
    for s in ss {
        s.close().await;
    }
    let report = Report::new("read", "dfoodd", against, &plan, &rec);
    emit(g.output, &report, render_report);
    Ok(())
}
